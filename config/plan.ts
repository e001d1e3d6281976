import { ConfigError } from "./errors";
import { Roster } from "./groups";
import { GatewaySettings } from "./settings";

/** A participant after limits and names are resolved. */
export interface PlannedUser {
  group: string;
  /** The name as written in groups.yaml. */
  name: string;
  /** The name with `/` turned into `-` and spaces into `_`. */
  slug: string;
  email?: string;
  /** Tokens per window that this user contributes (per-user mode: their own quota). */
  limit: number;
}

/** One API key: a key-auth credential under a consumer. */
export interface PlannedCredential {
  id: string;
  /** The keyRotation entry that rotates it: `<group>/<user>`, or `<group>` for a shared key. */
  rotationKey: string;
  rotation: number;
  /** Users who receive this key in their kilo.json. */
  users: PlannedUser[];
}

/** One APISIX consumer: the holder of a token quota. */
export interface PlannedConsumer {
  username: string;
  group: string;
  users: PlannedUser[];
  /** Chat tokens per window. */
  limit: number;
  /** Embedding tokens per window when embeddings have their own budget. */
  embeddingLimit: number;
  window: number;
  credentials: PlannedCredential[];
}

/** Turns a roster name into an APISIX-safe slug: `/` becomes `-`, white space `_`. */
export function slugify(name: string): string {
  return name.trim().replace(/\//g, "-").replace(/\s+/g, "_");
}

const usernamePattern = /^[a-zA-Z0-9_-]+$/;
const credentialIdPattern = /^[a-zA-Z0-9._-]+$/;

/** Builds the consumers and credentials for the roster; throws ConfigError on bad names. */
export function planConsumers<S>(roster: Roster, settings: GatewaySettings<S>): PlannedConsumer[] {
  const file = settings.groupsFile;
  const consumers: PlannedConsumer[] = [];
  const seenConsumers = new Map<string, string>();
  const seenCredentials = new Map<string, string>();

  const claim = (seen: Map<string, string>, kind: string, name: string, where: string) => {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new ConfigError(
        `${file}: ${where} becomes ${kind} "${name}", which collides with ${earlier}; rename one of them.`,
      );
    }
    seen.set(name, where);
  };

  for (const [groupName, group] of Object.entries(roster.groups)) {
    const groupSlug = slugify(groupName);
    const users = group.users.map((user): PlannedUser => {
      const slug = slugify(user.name);
      return {
        group: groupName,
        name: user.name,
        slug,
        email: "email" in user ? user.email : undefined,
        limit:
          ("rateLimitTokens" in user ? user.rateLimitTokens : undefined) ??
          group.rateLimitTokens ??
          settings.rateLimitTokens,
      };
    });
    assertUniqueUsers(file, groupName, users);

    const credentialFor = (
      id: string,
      rotationKey: string,
      holders: PlannedUser[],
      where: string,
    ) => {
      assertName(file, where, "credential id", id, credentialIdPattern, 64);
      claim(seenCredentials, "credential", id, where);
      return { id, rotationKey, rotation: settings.keyRotation[rotationKey] ?? 0, users: holders };
    };
    const consumerFor = (username: string, holders: PlannedUser[], where: string) => {
      assertName(file, where, "consumer", username, usernamePattern, 256);
      claim(seenConsumers, "consumer", username, where);
      const limit = holders.reduce((sum, user) => sum + user.limit, 0);
      const embeddingShare = settings.embeddingRateLimitTokens;
      return {
        username,
        group: groupName,
        users: holders,
        limit,
        embeddingLimit: embeddingShare * holders.length,
        window: settings.rateLimitWindow,
        credentials: [] as PlannedCredential[],
      };
    };

    if (settings.mode === "per-user") {
      users.forEach((user, index) => {
        const where = `groups.${groupName}.users[${index}] "${user.name}"`;
        const name = `${groupSlug}-${user.slug}`;
        const consumer = consumerFor(name, [user], where);
        consumer.credentials.push(credentialFor(name, `${groupName}/${user.name}`, [user], where));
        consumers.push(consumer);
      });
      continue;
    }

    const where = `groups.${groupName}`;
    const consumer = consumerFor(`group-${groupSlug}`, users, where);
    if (settings.groupKeys === "shared") {
      consumer.credentials.push(credentialFor(`group-${groupSlug}`, groupName, users, where));
    } else {
      users.forEach((user, index) => {
        const userWhere = `groups.${groupName}.users[${index}] "${user.name}"`;
        const id = `${groupSlug}-${user.slug}`;
        consumer.credentials.push(
          credentialFor(id, `${groupName}/${user.name}`, [user], userWhere),
        );
      });
    }
    consumers.push(consumer);
  }

  assertRotationKeysExist(roster, settings, consumers);
  return consumers;
}

function assertName(
  file: string,
  where: string,
  kind: string,
  name: string,
  pattern: RegExp,
  maxLength: number,
): void {
  if (!pattern.test(name)) {
    const allowed = kind === "consumer" ? `"-" and "_"` : `"-", "_" and "."`;
    throw new ConfigError(
      `${file}: ${where} becomes ${kind} "${name}", which APISIX refuses (letters, digits, ${allowed} only); rename it.`,
    );
  }
  if (name.length > maxLength) {
    throw new ConfigError(
      `${file}: ${where} becomes ${kind} "${name}", longer than APISIX's ${maxLength} characters; shorten the group or user name.`,
    );
  }
}

function assertUniqueUsers(file: string, group: string, users: PlannedUser[]): void {
  const seen = new Map<string, number>();
  users.forEach((user, index) => {
    const earlier = seen.get(user.slug);
    if (earlier !== undefined) {
      throw new ConfigError(
        `${file}: groups.${group}.users[${index}] "${user.name}" and users[${earlier}] "${users[earlier].name}" are the same user once names are made APISIX-safe ("${user.slug}"); rename or remove one of them.`,
      );
    }
    seen.set(user.slug, index);
  });
}

function assertRotationKeysExist<S>(
  roster: Roster,
  settings: GatewaySettings<S>,
  consumers: PlannedConsumer[],
): void {
  // Entries for keys that this mode does not use (a user's key while the group shares one) are
  // kept, so switching modes back and forth does not force the organiser to edit them.
  const known = new Set(Object.keys(roster.groups));
  for (const [group, { users }] of Object.entries(roster.groups)) {
    for (const user of users) known.add(`${group}/${user.name}`);
  }
  for (const key of Object.keys(settings.keyRotation)) {
    if (!known.has(key)) {
      const examples = consumers
        .flatMap((c) => c.credentials.map((k) => k.rotationKey))
        .slice(0, 3);
      throw new ConfigError(
        `Pulumi.${settings.stack}.yaml: ai-gateway:keyRotation names "${key}", which is no group or <group>/<user> in ${settings.groupsFile} (keys look like: ${examples.join(", ")}); remove it or fix its spelling.`,
      );
    }
  }
}
