import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Gateway, GatewayArgs } from "../../components/gateway";
import { planConsumers } from "../../config/plan";
import type { GatewaySettings } from "../../config/settings";
import { roster, settingsFor } from "../config/fixtures";
import {
  apiKeyOutputs,
  findRegistration,
  isSecret,
  mockKey,
  Registration,
  resetMocks,
  reveal,
  settled,
  unwrap,
  urnOf,
} from "./registrations";

type Secret = pulumi.Output<string>;
type KiloJson = {
  providers: Record<string, { baseUrl: string; apiKey: string }>;
  indexing?: { "openai-compatible": { apiKey: string } };
};

const apisixType = (kind: string) => `pulumi-nodejs:dynamic/apisix:${kind}`;
const keyType = "pulumi-nodejs:dynamic/gateway:ApiKey";
const fileType = "pulumi-nodejs:dynamic/gateway:LocalFile";

/** Two groups, one with a space in its name, and three different per-user limits. */
const twoGroups = [
  "groups:",
  "  alpha:",
  "    users:",
  "      - alice",
  "      - { name: bob, rateLimitTokens: 1200 }",
  "  team beta:",
  "    rateLimitTokens: 800",
  "    users: [carol]",
].join("\n");

/** Fixture settings with their secrets turned into secret Outputs, as the program has them. */
function secretSettings(overrides: Partial<GatewaySettings<string>>): GatewaySettings<Secret> {
  const plain = settingsFor({ stack: "hack 2026", kiloDir: "out/kilo", ...overrides });
  const wrap = (value?: string) => (value === undefined ? undefined : pulumi.secret(value));
  return {
    ...plain,
    adminKey: wrap(plain.adminKey),
    lemonadeApiKey: wrap(plain.lemonadeApiKey),
    redis: plain.redis && { ...plain.redis, password: wrap(plain.redis.password) },
    provision: undefined,
  };
}

/** A custom resource the mocks create, standing in for the provisioned services. */
class StandInServices extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Services", name, {});
  }
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

interface BuildOptions {
  settings?: Partial<GatewaySettings<string>>;
  args?: Partial<GatewayArgs>;
  /** Registers a custom resource first and passes it to the Gateway as `after`. */
  withDependency?: boolean;
}

/** Builds a Gateway for the roster under fresh mocks and returns it with what was registered. */
async function build(yaml: string, options: BuildOptions = {}) {
  const list = await resetMocks({ outputs: apiKeyOutputs });
  const dependency = options.withDependency ? new StandInServices("services") : undefined;
  const settings = secretSettings(options.settings ?? {});
  const consumers = planConsumers(roster(yaml), settings);
  const after = dependency ? [dependency] : [];
  const gateway = new Gateway("gateway", { settings, consumers, after, ...options.args });
  // The kilo configs need every key, so once they resolve only the last writes can be pending.
  await valueOf(gateway.kiloConfigs);
  await settled();
  return { gateway, list };
}

const ofType = (list: Registration[], type: string) => list.filter((r) => r.type === type);
const apisixObjects = (list: Registration[]) =>
  list.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/apisix:"));
const kiloJson = (file: Registration) => JSON.parse(unwrap(file.inputs.content) as string);

/** URNs a registration depends on, directly or through the registrations it depends on. */
function dependencyClosure(list: Registration[], start: Registration): Set<string> {
  const byUrn = new Map(list.map((r) => [urnOf(r), r]));
  const seen = new Set<string>();
  const pending = [...start.dependencies];
  while (pending.length > 0) {
    const urn = pending.pop()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    pending.push(...(byUrn.get(urn)?.dependencies ?? []));
  }
  return seen;
}

describe("Gateway in per-user mode with two groups", () => {
  let list: Registration[];
  let gateway: Gateway;

  beforeAll(async () => {
    ({ gateway, list } = await build(twoGroups, { settings: { keyRotation: { "alpha/bob": 2 } } }));
  });

  it("registers two routes and a consumer, credential, key and kilo file per user", () => {
    expect(list.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "ai-gateway:gateway:Gateway gateway",
      `${apisixType("Consumer")} consumer-alpha-alice`,
      `${apisixType("Consumer")} consumer-alpha-bob`,
      `${apisixType("Consumer")} consumer-team_beta-carol`,
      `${apisixType("Credential")} credential-alpha-alice`,
      `${apisixType("Credential")} credential-alpha-bob`,
      `${apisixType("Credential")} credential-team_beta-carol`,
      `${apisixType("Route")} route-ai-chat`,
      `${apisixType("Route")} route-ai-embeddings`,
      `${keyType} key-alpha-alice`,
      `${keyType} key-alpha-bob`,
      `${keyType} key-team_beta-carol`,
      `${fileType} kilo-alpha-alice`,
      `${fileType} kilo-alpha-bob`,
      `${fileType} kilo-team_beta-carol`,
    ]);
  });

  it("parents every child to the Gateway, which has no parent", () => {
    const component = findRegistration(list, "gateway");
    const children = list.filter((r) => r !== component);

    expect(component.parent).toBe("");
    expect(children).toHaveLength(14);
    for (const child of children) expect(child.parent, child.name).toBe(urnOf(component));
  });

  it("stores each user's key as a secret Bearer value on a credential below their consumer", () => {
    for (const id of ["alpha-alice", "alpha-bob", "team_beta-carol"]) {
      const credential = findRegistration(list, `credential-${id}`);
      expect(credential.inputs.path).toBe(`consumers/${id}/credentials/${id}`);
      expect(isSecret(credential.inputs.secrets)).toBe(true);
      expect(reveal(credential.inputs.secrets)).toEqual({
        "plugins.key-auth.key": `Bearer ${mockKey(`key-${id}`)}`,
      });
      expect(credential.inputs.body).toEqual({
        labels: { "managed-by": "ai-gateway", "ai-gateway-stack": "hack_2026" },
        plugins: { "key-auth": {} },
      });
      expect(credential.dependencies).toContain(urnOf(findRegistration(list, `consumer-${id}`)));
    }
  });

  it("writes each user's kilo.json with their key as secret content once the credential exists", () => {
    const files = [
      ["kilo-alpha-alice", "out/kilo/alpha/alice/kilo.json", "alpha-alice"],
      ["kilo-alpha-bob", "out/kilo/alpha/bob/kilo.json", "alpha-bob"],
      ["kilo-team_beta-carol", "out/kilo/team_beta/carol/kilo.json", "team_beta-carol"],
    ];
    for (const [name, path, id] of files) {
      const file = findRegistration(list, name);
      expect(file.inputs.path).toBe(path);
      expect(file.inputs.root).toBe("out/kilo");
      expect(isSecret(file.inputs.content)).toBe(true);
      const config = kiloJson(file) as KiloJson;
      expect(config.providers["lemonade-gateway"].apiKey).toBe(mockKey(`key-${id}`));
      expect(config.indexing?.["openai-compatible"].apiKey).toBe(mockKey(`key-${id}`));
      expect(file.dependencies).toContain(urnOf(findRegistration(list, `credential-${id}`)));
    }
  });

  it("sends every APISIX object the admin key as a secret, the admin URL and the owner labels", () => {
    const objects = apisixObjects(list);

    expect(objects).toHaveLength(8);
    for (const object of objects) {
      expect(isSecret(object.inputs.adminKey), object.name).toBe(true);
      expect(unwrap(object.inputs.adminKey)).toBe("admin-key");
      expect(object.inputs.adminUrl).toBe("http://127.0.0.1:9180");
      expect(object.inputs.owner).toEqual({
        "managed-by": "ai-gateway",
        "ai-gateway-stack": "hack_2026",
      });
    }
  });

  it("gives each consumer its planned chat limit and the embedding limit in its body", () => {
    const limits = Object.fromEntries(
      ofType(list, apisixType("Consumer")).map((consumer) => {
        const body = consumer.inputs.body as { plugins: Record<string, { instances: unknown }> };
        return [consumer.name, body.plugins["ai-rate-limiting"].instances];
      }),
    );
    const instances = (limit: number) => [
      { name: "chat", limit, time_window: 60 },
      { name: "embeddings", limit: 500, time_window: 60 },
    ];

    expect(limits).toEqual({
      "consumer-alpha-alice": instances(500),
      "consumer-alpha-bob": instances(1200),
      "consumer-team_beta-carol": instances(800),
    });
    const carol = findRegistration(list, "consumer-team_beta-carol").inputs.body;
    expect(carol).toMatchObject({ username: "team_beta-carol", labels: { group: "team_beta" } });
  });

  it("generates each key with its rotation number and its value as a secret output", () => {
    const keys = ofType(list, keyType);

    expect(keys.map((key) => [key.name, key.inputs.rotation]).sort()).toEqual([
      ["key-alpha-alice", 0],
      ["key-alpha-bob", 2],
      ["key-team_beta-carol", 0],
    ]);
    for (const key of keys) expect(key.additionalSecretOutputs).toEqual(["value"]);
  });

  it("serializes the APISIX and file providers into their resources", () => {
    const route = findRegistration(list, "route-ai-chat");
    const file = findRegistration(list, "kilo-alpha-alice");

    expect(unwrap(route.inputs.__provider)).toContain("adminRequest");
    expect(unwrap(file.inputs.__provider)).toContain("renameSync");
  });

  it("outputs both endpoints, a summary per consumer without keys and the kilo configs as a secret", async () => {
    expect(gateway.endpoints).toEqual({
      chat: "http://127.0.0.1:9080/v1/chat/completions",
      embeddings: "http://127.0.0.1:9080/v1/embeddings",
    });
    expect(gateway.consumers).toEqual([
      {
        name: "alpha-alice",
        group: "alpha",
        users: ["alice"],
        limit: 500,
        embeddingLimit: 500,
        window: 60,
      },
      {
        name: "alpha-bob",
        group: "alpha",
        users: ["bob"],
        limit: 1200,
        embeddingLimit: 500,
        window: 60,
      },
      {
        name: "team_beta-carol",
        group: "team beta",
        users: ["carol"],
        limit: 800,
        embeddingLimit: 500,
        window: 60,
      },
    ]);
    expect(JSON.stringify(gateway.consumers)).not.toContain("mock-key");
    expect(await pulumi.isSecret(gateway.kiloConfigs)).toBe(true);
    const configs = (await valueOf(gateway.kiloConfigs)) as Record<string, KiloJson>;
    expect(Object.keys(configs).sort()).toEqual(["alpha/alice", "alpha/bob", "team beta/carol"]);
    expect(configs["team beta/carol"].providers["lemonade-gateway"]).toEqual({
      baseUrl: "http://127.0.0.1:9080",
      apiKey: mockKey("key-team_beta-carol"),
    });
  });
});

describe("Gateway in per-group mode with shared group keys", () => {
  let list: Registration[];
  let gateway: Gateway;

  beforeAll(async () => {
    const settings = { mode: "per-group", groupKeys: "shared" } as const;
    ({ gateway, list } = await build(twoGroups, { settings }));
  });

  it("registers one consumer, one credential and one key per group and a kilo file per user", () => {
    const names = (type: string) =>
      ofType(list, type)
        .map((r) => r.name)
        .sort();

    expect(names(apisixType("Consumer"))).toEqual([
      "consumer-group-alpha",
      "consumer-group-team_beta",
    ]);
    expect(names(apisixType("Credential"))).toEqual([
      "credential-group-alpha",
      "credential-group-team_beta",
    ]);
    expect(names(keyType)).toEqual(["key-group-alpha", "key-group-team_beta"]);
    expect(names(fileType)).toEqual(["kilo-alpha-alice", "kilo-alpha-bob", "kilo-team_beta-carol"]);
  });

  it("gives every member of a group the group's key", () => {
    const alphaKey = mockKey("key-group-alpha");

    for (const name of ["kilo-alpha-alice", "kilo-alpha-bob"]) {
      const config = kiloJson(findRegistration(list, name)) as KiloJson;
      expect(config.providers["lemonade-gateway"].apiKey).toBe(alphaKey);
    }
    const carol = kiloJson(findRegistration(list, "kilo-team_beta-carol")) as KiloJson;
    expect(carol.providers["lemonade-gateway"].apiKey).toBe(mockKey("key-group-team_beta"));
    const credential = findRegistration(list, "credential-group-alpha");
    expect(credential.inputs.path).toBe("consumers/group-alpha/credentials/group-alpha");
    expect(reveal(credential.inputs.secrets)).toEqual({
      "plugins.key-auth.key": `Bearer ${alphaKey}`,
    });
  });

  it("sums the members' limits into the group consumer's quota", () => {
    const body = findRegistration(list, "consumer-group-alpha").inputs.body;

    expect(body).toMatchObject({
      plugins: {
        "ai-rate-limiting": {
          instances: [
            { name: "chat", limit: 1700, time_window: 60 },
            { name: "embeddings", limit: 1000, time_window: 60 },
          ],
        },
      },
    });
    expect(gateway.consumers[0]).toEqual({
      name: "group-alpha",
      group: "alpha",
      users: ["alice", "bob"],
      limit: 1700,
      embeddingLimit: 1000,
      window: 60,
    });
  });
});

describe("Gateway in per-group mode with per-user keys", () => {
  it("puts one credential per user under the group's consumer, each with its own key", async () => {
    const settings = { mode: "per-group", groupKeys: "per-user" } as const;
    const { list } = await build(twoGroups, { settings });

    expect(ofType(list, apisixType("Consumer"))).toHaveLength(2);
    for (const id of ["alpha-alice", "alpha-bob"]) {
      const credential = findRegistration(list, `credential-${id}`);
      expect(credential.inputs.path).toBe(`consumers/group-alpha/credentials/${id}`);
      expect(reveal(credential.inputs.secrets)).toEqual({
        "plugins.key-auth.key": `Bearer ${mockKey(`key-${id}`)}`,
      });
      const config = kiloJson(findRegistration(list, `kilo-${id}`)) as KiloJson;
      expect(config.providers["lemonade-gateway"].apiKey).toBe(mockKey(`key-${id}`));
    }
  });
});

describe("Gateway with embeddings off", () => {
  it("registers no embeddings route and outputs only the chat endpoint", async () => {
    const { gateway, list } = await build(twoGroups, { settings: { embedding: false } });

    expect(ofType(list, apisixType("Route")).map((r) => r.name)).toEqual(["route-ai-chat"]);
    expect(gateway.endpoints).toEqual({ chat: "http://127.0.0.1:9080/v1/chat/completions" });
    expect(gateway.consumers[0]).not.toHaveProperty("embeddingLimit");
    const body = findRegistration(list, "consumer-alpha-alice").inputs.body;
    expect(body).toMatchObject({
      plugins: { "ai-rate-limiting": { instances: [{ name: "chat", limit: 500 }] } },
    });
    expect(kiloJson(findRegistration(list, "kilo-alpha-alice"))).not.toHaveProperty("indexing");
  });
});

describe("Gateway with lemonadeApiKey", () => {
  const authorization = "plugins.ai-proxy-multi.instances.0.auth.header.Authorization";
  const routeSecrets = async (lemonadeApiKey?: string) => {
    const { list } = await build(twoGroups, { settings: { lemonadeApiKey } });
    return findRegistration(list, "route-ai-chat").inputs.secrets;
  };

  it("sends the upstream key with the Bearer scheme as a route secret", async () => {
    const secrets = await routeSecrets("sk-upstream");

    expect(isSecret(secrets)).toBe(true);
    expect(reveal(secrets)).toEqual({ [authorization]: "Bearer sk-upstream" });
  });

  it("keeps a key that already starts with Bearer as it is", async () => {
    expect(reveal(await routeSecrets("Bearer sk-upstream"))).toEqual({
      [authorization]: "Bearer sk-upstream",
    });
  });

  it("sends no route secrets without an upstream key", async () => {
    expect(reveal(await routeSecrets(undefined))).toEqual({});
  });
});

describe("Gateway with adminUrl and adminKey args", () => {
  it("sends them to every APISIX object instead of the settings' values", async () => {
    const args = { adminUrl: "http://10.0.0.5:19180", adminKey: pulumi.secret("provisioned-key") };
    const { list } = await build(twoGroups, { args });

    for (const object of apisixObjects(list)) {
      expect(object.inputs.adminUrl).toBe("http://10.0.0.5:19180");
      expect(isSecret(object.inputs.adminKey)).toBe(true);
      expect(unwrap(object.inputs.adminKey)).toBe("provisioned-key");
    }
  });
});

describe("Gateway with resources to come after", () => {
  let list: Registration[];
  let dependency: string;

  beforeAll(async () => {
    ({ list } = await build(twoGroups, { withDependency: true }));
    dependency = urnOf(findRegistration(list, "services"));
  });

  it("lists the dependency directly on every APISIX object and kilo file", () => {
    const direct = [...apisixObjects(list), ...ofType(list, fileType)];

    expect(direct).toHaveLength(11);
    for (const registration of direct) {
      expect(registration.dependencies, registration.name).toContain(dependency);
    }
  });

  it("orders every APISIX object and kilo file after the dependency", () => {
    const ordered = [...apisixObjects(list), ...ofType(list, fileType)];

    expect(ordered).toHaveLength(11);
    for (const registration of ordered) {
      expect([...dependencyClosure(list, registration)], registration.name).toContain(dependency);
    }
  });
});
