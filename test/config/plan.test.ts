import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { planConsumers, slugify } from "../../config/plan";
import { roster, settingsFor } from "./fixtures";

const perGroup = { mode: "per-group" } as const;
const perGroupPerUserKeys = { mode: "per-group", groupKeys: "per-user" } as const;

/** Consumer names with their credential ids, the shape most naming tests care about. */
function names(text: string, overrides: Parameters<typeof settingsFor>[0] = {}) {
  return planConsumers(roster(text), settingsFor(overrides)).map((consumer) => ({
    username: consumer.username,
    credentials: consumer.credentials.map((credential) => credential.id),
  }));
}

describe("slugify", () => {
  it("turns slashes into dashes and runs of white space into one underscore", () => {
    expect(slugify("team/x  red\tfox")).toBe("team-x_red_fox");
  });

  it("trims the name before replacing", () => {
    expect(slugify("  a / b  ")).toBe("a_-_b");
  });

  it("leaves an APISIX-safe name unchanged", () => {
    expect(slugify("Alice_01-x")).toBe("Alice_01-x");
  });
});

describe("planConsumers in per-user mode", () => {
  const text = "groups:\n  alpha:\n    users: [alice, {name: bob, email: bob@example.org}]\n";

  it("makes one consumer and one credential per user", () => {
    const [alice, bob] = planConsumers(roster(text), settingsFor());
    const aliceUser = {
      group: "alpha",
      name: "alice",
      slug: "alice",
      email: undefined,
      limit: 500,
    };
    const bobUser = {
      group: "alpha",
      name: "bob",
      slug: "bob",
      email: "bob@example.org",
      limit: 500,
    };

    expect(alice).toEqual({
      username: "alpha-alice",
      group: "alpha",
      users: [aliceUser],
      limit: 500,
      embeddingLimit: 500,
      window: 60,
      credentials: [
        { id: "alpha-alice", rotationKey: "alpha/alice", rotation: 0, users: [aliceUser] },
      ],
    });
    expect(bob).toEqual({
      username: "alpha-bob",
      group: "alpha",
      users: [bobUser],
      limit: 500,
      embeddingLimit: 500,
      window: 60,
      credentials: [{ id: "alpha-bob", rotationKey: "alpha/bob", rotation: 0, users: [bobUser] }],
    });
  });

  it("keeps roster order across groups", () => {
    expect(names("groups:\n  beta:\n    users: [zed, amy]\n  alpha:\n    users: [bob]")).toEqual([
      { username: "beta-zed", credentials: ["beta-zed"] },
      { username: "beta-amy", credentials: ["beta-amy"] },
      { username: "alpha-bob", credentials: ["alpha-bob"] },
    ]);
  });

  it("makes slashes and spaces in group and user names APISIX-safe", () => {
    const [consumer] = planConsumers(
      roster("groups:\n  team/x:\n    users: ['bob  smith']"),
      settingsFor(),
    );

    expect(consumer.username).toBe("team-x-bob_smith");
    expect(consumer.users[0]).toMatchObject({ name: "bob  smith", slug: "bob_smith" });
    expect(consumer.credentials[0]).toMatchObject({
      id: "team-x-bob_smith",
      rotationKey: "team/x/bob  smith",
    });
  });

  it("takes the window from the stack", () => {
    const [consumer] = planConsumers(roster(text), settingsFor({ rateLimitWindow: 3600 }));

    expect(consumer.window).toBe(3600);
  });

  it("prefers a user's limit over the group's and the group's over the stack's", () => {
    const yaml = [
      "groups:",
      "  alpha:",
      "    rateLimitTokens: 800",
      "    users: [alice, {name: bob, rateLimitTokens: 1200}]",
      "  beta:",
      "    users: [carol, {name: dan, rateLimitTokens: 50}]",
    ].join("\n");
    const consumers = planConsumers(roster(yaml), settingsFor({ rateLimitTokens: 300 }));

    expect(consumers.map((c) => [c.username, c.limit, c.users[0].limit])).toEqual([
      ["alpha-alice", 800, 800],
      ["alpha-bob", 1200, 1200],
      ["beta-carol", 300, 300],
      ["beta-dan", 50, 50],
    ]);
  });

  it("gives each user the stack's embedding limit whatever their chat limit", () => {
    const yaml =
      "groups:\n  alpha:\n    rateLimitTokens: 800\n    users: [{name: bob, rateLimitTokens: 1200}]";
    const [consumer] = planConsumers(roster(yaml), settingsFor({ embeddingRateLimitTokens: 40 }));

    expect(consumer.embeddingLimit).toBe(40);
  });

  it("allows the same user name in two groups", () => {
    expect(names("groups:\n  alpha:\n    users: [alice]\n  beta:\n    users: [alice]")).toEqual([
      { username: "alpha-alice", credentials: ["alpha-alice"] },
      { username: "beta-alice", credentials: ["beta-alice"] },
    ]);
  });

  it("rejects two users of a group that slugify to the same name", () => {
    expect(() => names("groups:\n  alpha:\n    users: ['bob smith', carol, bob_smith]")).toThrow(
      'groups.yaml: groups.alpha.users[2] "bob_smith" and users[0] "bob smith" are the same user once names are made APISIX-safe ("bob_smith"); rename or remove one of them.',
    );
  });

  it("rejects users of different groups whose consumer names collide", () => {
    expect(() => names("groups:\n  a-b:\n    users: [c]\n  a:\n    users: [b-c]")).toThrow(
      'groups.yaml: groups.a.users[0] "b-c" becomes consumer "a-b-c", which collides with groups.a-b.users[0] "c"; rename one of them.',
    );
  });

  it("names the groups file from the settings in messages", () => {
    expect(() =>
      names("groups:\n  a/b:\n    users: [c]\n  a:\n    users: [b/c]", {
        groupsFile: "rosters/spring.yaml",
      }),
    ).toThrow(
      'rosters/spring.yaml: groups.a.users[0] "b/c" becomes consumer "a-b-c", which collides with groups.a/b.users[0] "c"; rename one of them.',
    );
  });

  it("rejects a user name with a character APISIX refuses", () => {
    expect(() => names("groups:\n  alpha:\n    users: [alice.b]")).toThrow(
      'groups.yaml: groups.alpha.users[0] "alice.b" becomes consumer "alpha-alice.b", which APISIX refuses (letters, digits, "-" and "_" only); rename it.',
    );
  });

  it("rejects a name too long for a credential id", () => {
    const user = "x".repeat(59);

    expect(() => names(`groups:\n  alpha:\n    users: [${user}]`)).toThrow(
      `groups.yaml: groups.alpha.users[0] "${user}" becomes credential id "alpha-${user}", longer than APISIX's 64 characters; shorten the group or user name.`,
    );
  });

  it("accepts a name of exactly 64 characters", () => {
    const user = "x".repeat(58);

    expect(names(`groups:\n  alpha:\n    users: [${user}]`)).toEqual([
      { username: `alpha-${user}`, credentials: [`alpha-${user}`] },
    ]);
  });

  it("rejects a name too long for a consumer before checking the credential", () => {
    const user = "x".repeat(251);

    expect(() => names(`groups:\n  alpha:\n    users: [${user}]`)).toThrow(
      `groups.yaml: groups.alpha.users[0] "${user}" becomes consumer "alpha-${user}", longer than APISIX's 256 characters; shorten the group or user name.`,
    );
  });
});

describe("planConsumers in per-group mode", () => {
  const yaml = [
    "groups:",
    "  alpha:",
    "    rateLimitTokens: 200",
    "    users: [a, {name: b, rateLimitTokens: 50}, c]",
    "  beta:",
    "    users: [d]",
  ].join("\n");

  it("pools the users' limits into one consumer per group", () => {
    const consumers = planConsumers(
      roster(yaml),
      settingsFor({ ...perGroup, rateLimitTokens: 500 }),
    );

    expect(
      consumers.map((c) => ({
        username: c.username,
        group: c.group,
        limit: c.limit,
        users: c.users.map((u) => [u.name, u.limit]),
      })),
    ).toEqual([
      {
        username: "group-alpha",
        group: "alpha",
        limit: 450,
        users: [
          ["a", 200],
          ["b", 50],
          ["c", 200],
        ],
      },
      { username: "group-beta", group: "beta", limit: 500, users: [["d", 500]] },
    ]);
  });

  it("multiplies the embedding limit by the number of users", () => {
    const consumers = planConsumers(
      roster(yaml),
      settingsFor({ ...perGroup, embeddingRateLimitTokens: 30 }),
    );

    expect(consumers.map((c) => c.embeddingLimit)).toEqual([90, 30]);
  });

  it("gives a group one shared key rotated under the group name", () => {
    const [alpha] = planConsumers(roster(yaml), settingsFor(perGroup));

    expect(alpha.credentials).toHaveLength(1);
    expect(alpha.credentials[0]).toMatchObject({
      id: "group-alpha",
      rotationKey: "alpha",
      rotation: 0,
    });
    expect(alpha.credentials[0].users.map((u) => u.name)).toEqual(["a", "b", "c"]);
  });

  it("gives each user a key under the group consumer with per-user keys", () => {
    const [alpha, beta] = planConsumers(roster(yaml), settingsFor(perGroupPerUserKeys));

    expect(alpha.username).toBe("group-alpha");
    expect(alpha.credentials.map((k) => [k.id, k.rotationKey, k.users.map((u) => u.name)])).toEqual(
      [
        ["alpha-a", "alpha/a", ["a"]],
        ["alpha-b", "alpha/b", ["b"]],
        ["alpha-c", "alpha/c", ["c"]],
      ],
    );
    expect(beta.credentials.map((k) => k.id)).toEqual(["beta-d"]);
  });

  it("makes group names APISIX-safe", () => {
    expect(names("groups:\n  red team/2:\n    users: [x]", perGroup)).toEqual([
      { username: "group-red_team-2", credentials: ["group-red_team-2"] },
    ]);
  });

  it("rejects two groups whose consumer names collide", () => {
    expect(() =>
      names("groups:\n  a b:\n    users: [c]\n  a_b:\n    users: [d]", perGroup),
    ).toThrow(
      'groups.yaml: groups.a_b becomes consumer "group-a_b", which collides with groups.a b; rename one of them.',
    );
  });

  it("rejects per-user keys of different groups that collide", () => {
    const text = "groups:\n  a-b:\n    users: [c]\n  a:\n    users: [b-c]";

    expect(() => names(text, perGroupPerUserKeys)).toThrow(
      'groups.yaml: groups.a.users[0] "b-c" becomes credential "a-b-c", which collides with groups.a-b.users[0] "c"; rename one of them.',
    );
  });

  it("rejects two users of a group that slugify to the same name", () => {
    expect(() => names("groups:\n  alpha:\n    users: [x/y, x-y]", perGroup)).toThrow(
      'groups.yaml: groups.alpha.users[1] "x-y" and users[0] "x/y" are the same user once names are made APISIX-safe ("x-y"); rename or remove one of them.',
    );
  });

  it("rejects a group name with a character APISIX refuses", () => {
    expect(() => names("groups:\n  al.pha:\n    users: [a]", perGroup)).toThrow(
      'groups.yaml: groups.al.pha becomes consumer "group-al.pha", which APISIX refuses (letters, digits, "-" and "_" only); rename it.',
    );
  });

  it("accepts a dot in a per-user credential id, which APISIX allows there", () => {
    expect(names("groups:\n  alpha:\n    users: [alice.b]", perGroupPerUserKeys)).toEqual([
      { username: "group-alpha", credentials: ["alpha-alice.b"] },
    ]);
  });

  it("rejects a per-user credential id with a character APISIX refuses", () => {
    expect(() => names("groups:\n  alpha:\n    users: ['a@b']", perGroupPerUserKeys)).toThrow(
      'groups.yaml: groups.alpha.users[0] "a@b" becomes credential id "alpha-a@b", which APISIX refuses (letters, digits, "-", "_" and "." only); rename it.',
    );
  });

  it("rejects a group name too long for the shared credential id", () => {
    const group = "g".repeat(59);

    expect(() => names(`groups:\n  ${group}:\n    users: [a]`, perGroup)).toThrow(
      `groups.yaml: groups.${group} becomes credential id "group-${group}", longer than APISIX's 64 characters; shorten the group or user name.`,
    );
  });
});

describe("planConsumers key rotation", () => {
  const yaml = "groups:\n  alpha:\n    users: [a, b]\n  beta:\n    users: [c]";

  it("takes each user's rotation count from keyRotation", () => {
    const consumers = planConsumers(roster(yaml), settingsFor({ keyRotation: { "alpha/b": 2 } }));

    expect(consumers.map((c) => [c.credentials[0].id, c.credentials[0].rotation])).toEqual([
      ["alpha-a", 0],
      ["alpha-b", 2],
      ["beta-c", 0],
    ]);
  });

  it("takes a shared key's rotation count from the group entry", () => {
    const consumers = planConsumers(
      roster(yaml),
      settingsFor({ ...perGroup, keyRotation: { beta: 4 } }),
    );

    expect(consumers.map((c) => c.credentials[0].rotation)).toEqual([0, 4]);
  });

  it("looks rotation keys up by the name as written, not the slug", () => {
    const text = "groups:\n  team/x:\n    users: ['c  d']";
    const [consumer] = planConsumers(
      roster(text),
      settingsFor({ keyRotation: { "team/x/c  d": 1 } }),
    );

    expect(consumer.credentials[0].rotation).toBe(1);
  });

  it("keeps a user entry unused while the group shares one key", () => {
    const consumers = planConsumers(
      roster(yaml),
      settingsFor({ ...perGroup, keyRotation: { "alpha/a": 3, alpha: 1 } }),
    );

    expect(consumers.map((c) => c.credentials.map((k) => [k.id, k.rotation]))).toEqual([
      [["group-alpha", 1]],
      [["group-beta", 0]],
    ]);
  });

  it("keeps a group entry unused while each user has a key", () => {
    const consumers = planConsumers(roster(yaml), settingsFor({ keyRotation: { alpha: 5 } }));

    expect(consumers.flatMap((c) => c.credentials.map((k) => k.rotation))).toEqual([0, 0, 0]);
  });

  it("rejects an entry that names no group or user, with example keys of the mode", () => {
    const text = "groups:\n  alpha:\n    users: [a, b, c, d]\n  beta:\n    users: [e]";

    expect(() => names(text, { keyRotation: { "alpha/zz": 2 } })).toThrow(
      'Pulumi.dev.yaml: ai-gateway:keyRotation names "alpha/zz", which is no group or <group>/<user> in groups.yaml (keys look like: alpha/a, alpha/b, alpha/c); remove it or fix its spelling.',
    );
  });

  it("gives group names as examples when the group shares one key", () => {
    expect(() =>
      names(yaml, { ...perGroup, stack: "hack-2026", keyRotation: { gamma: 1 } }),
    ).toThrow(
      'Pulumi.hack-2026.yaml: ai-gateway:keyRotation names "gamma", which is no group or <group>/<user> in groups.yaml (keys look like: alpha, beta); remove it or fix its spelling.',
    );
  });

  it("rejects an entry that uses the slug instead of the name", () => {
    const text = "groups:\n  alpha:\n    users: ['bob smith']";

    expect(() => names(text, { keyRotation: { "alpha/bob_smith": 1 } })).toThrow(
      'Pulumi.dev.yaml: ai-gateway:keyRotation names "alpha/bob_smith", which is no group or <group>/<user> in groups.yaml (keys look like: alpha/bob smith); remove it or fix its spelling.',
    );
  });

  it("throws ConfigError for an unknown entry", () => {
    expect(() => names(yaml, { keyRotation: { nobody: 1 } })).toThrow(ConfigError);
  });
});
