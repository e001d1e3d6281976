import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { readSettings, SettingsSource } from "../../config/settings";

/** A stack config held in plain objects; secrets are plain strings. */
function source(
  values: Record<string, unknown>,
  secrets: Record<string, string> = {},
): SettingsSource<string> {
  return {
    get: (key) => values[key],
    getSecret: (key) => secrets[key],
    wrapSecret: (value) => value,
  };
}

/** The least config that passes: install off and an admin key. */
const usable = { install: "false" };
const adminKey = { adminKey: "admin-secret" };

function read(
  values: Record<string, unknown>,
  env: Record<string, string> = {},
  secrets: Record<string, string> = adminKey,
) {
  return readSettings(source({ ...usable, ...values }, secrets), env, "dev");
}

const fixHint = (key: string) =>
  `; fix it with: npm run pulumi -- config set ai-gateway:${key} <value>`;

describe("readSettings", () => {
  it("fills every default when only install and the admin key are set", () => {
    expect(read({})).toEqual({
      stack: "dev",
      groupsFile: "groups.yaml",
      enabled: true,
      mode: "per-user",
      groupKeys: "shared",
      rateLimitTokens: 500,
      rateLimitWindow: 60,
      embedding: true,
      embeddingModel: "user.harrier-oss-v1-0.6b",
      embeddingQuota: "separate",
      embeddingRateLimitTokens: 500,
      lemonadeServers: [{ url: "http://127.0.0.1:13305", weight: 1, priority: 0 }],
      lemonadeApiPath: "/v1",
      lemonadeApiKey: undefined,
      lemonadeModel: "user.gemma-4-31b-it",
      llmTimeoutMs: 600_000,
      quotaPolicy: "local",
      redis: undefined,
      externalIp: "127.0.0.1",
      proxyPort: 9080,
      adminUrl: "http://127.0.0.1:9180",
      adminKey: "admin-secret",
      install: false,
      kiloDir: "kilo/dev",
      keyRotation: {},
    });
  });

  it("takes every plain key from stack config as strings", () => {
    const settings = read({
      groupsFile: "rosters/spring.yaml",
      enabled: "true",
      mode: "per-group",
      groupKeys: "per-user",
      rateLimitTokens: "2000",
      rateLimitWindow: "3600",
      embedding: "false",
      embeddingModel: "nomic-embed",
      embeddingQuota: "shared",
      embeddingRateLimitTokens: "300",
      lemonadeUrl: "https://llm.example.org:8443",
      lemonadeApiPath: "/api/v1",
      lemonadeModel: "user.qwen-3",
      llmTimeoutSeconds: "45",
      externalIp: "10.0.0.7",
      proxyPort: "8080",
      adminUrl: "https://gw.example.org:9180",
      kiloDir: "out/kilo",
    });

    expect(settings).toMatchObject({
      groupsFile: "rosters/spring.yaml",
      enabled: true,
      mode: "per-group",
      groupKeys: "per-user",
      rateLimitTokens: 2000,
      rateLimitWindow: 3600,
      embedding: false,
      embeddingModel: "nomic-embed",
      embeddingQuota: "shared",
      embeddingRateLimitTokens: 300,
      lemonadeServers: [{ url: "https://llm.example.org:8443", weight: 1, priority: 0 }],
      lemonadeApiPath: "/api/v1",
      lemonadeModel: "user.qwen-3",
      llmTimeoutMs: 45_000,
      externalIp: "10.0.0.7",
      proxyPort: 8080,
      adminUrl: "https://gw.example.org:9180",
      kiloDir: "out/kilo",
    });
  });

  it("accepts booleans that are already parsed", () => {
    expect(read({ enabled: false, embedding: false }, {}, {})).toMatchObject({
      enabled: false,
      embedding: false,
    });
  });

  it("uses the stack name in the default kilo directory", () => {
    const settings = readSettings(source(usable, adminKey), {}, "hack-2026");

    expect(settings.stack).toBe("hack-2026");
    expect(settings.kiloDir).toBe("kilo/hack-2026");
  });

  it("defaults the embedding limit to the chat limit", () => {
    expect(read({ rateLimitTokens: "750" }).embeddingRateLimitTokens).toBe(750);
  });

  it("strips trailing slashes from URLs and the API path", () => {
    const settings = read({
      adminUrl: "http://gw:9180//",
      lemonadeUrl: "http://llm:13305/",
      lemonadeApiPath: "/api/v1/",
    });

    expect(settings.adminUrl).toBe("http://gw:9180");
    expect(settings.lemonadeServers).toEqual([{ url: "http://llm:13305", weight: 1, priority: 0 }]);
    expect(settings.lemonadeApiPath).toBe("/api/v1");
  });

  it("reads a list of LLM servers with weights and priorities", () => {
    const settings = read({
      lemonadeUrl: [
        "http://a:1/",
        { url: "http://b:2", weight: 3, priority: 2 },
        { url: "http://c:3", weight: 0 },
      ],
    });

    expect(settings.lemonadeServers).toEqual([
      { url: "http://a:1", weight: 1, priority: 0 },
      { url: "http://b:2", weight: 3, priority: 2 },
      { url: "http://c:3", weight: 0, priority: 0 },
    ]);
  });

  it("reads a single server given as an object", () => {
    expect(read({ lemonadeUrl: { url: "http://b:2", priority: -1 } }).lemonadeServers).toEqual([
      { url: "http://b:2", weight: 1, priority: -1 },
    ]);
  });

  it("reads a keyRotation map", () => {
    expect(read({ keyRotation: { "alpha/alice": 2, beta: 0 } }).keyRotation).toEqual({
      "alpha/alice": 2,
      beta: 0,
    });
  });

  it("takes unset keys from their environment variables", () => {
    const settings = read(
      {},
      {
        GATEWAY_ENABLED: "true",
        GATEWAY_MODE: "per-group",
        GATEWAY_RATE_LIMIT_TOKENS: "900",
        GATEWAY_RATE_LIMIT_WINDOW: "30",
        GATEWAY_REDIS_HOST: "redis.internal",
        GATEWAY_REDIS_PORT: "7000",
        GATEWAY_REDIS_PASSWORD: "redis-pw",
        GATEWAY_PROXY_PORT: "8088",
        GATEWAY_ADMIN_URL: "http://gw:1",
        GATEWAY_ADMIN_KEY: "env-admin",
      },
      {},
    );

    expect(settings).toMatchObject({
      enabled: true,
      mode: "per-group",
      rateLimitTokens: 900,
      rateLimitWindow: 30,
      embeddingRateLimitTokens: 900,
      redis: { host: "redis.internal", port: 7000, password: "redis-pw" },
      proxyPort: 8088,
      adminUrl: "http://gw:1",
      adminKey: "env-admin",
    });
  });

  it("prefers stack config over the environment", () => {
    const settings = read(
      { mode: "per-user", rateLimitTokens: "100" },
      { GATEWAY_MODE: "per-group", GATEWAY_RATE_LIMIT_TOKENS: "900", GATEWAY_ADMIN_KEY: "env" },
      { adminKey: "config-admin" },
    );

    expect(settings).toMatchObject({
      mode: "per-user",
      rateLimitTokens: 100,
      adminKey: "config-admin",
    });
  });

  it("ignores environment variables that are set but empty", () => {
    const settings = read({}, { GATEWAY_PROXY_PORT: "", GATEWAY_MODE: "" });

    expect(settings.proxyPort).toBe(9080);
    expect(settings.mode).toBe("per-user");
  });

  it("ignores environment variables for keys that have none", () => {
    expect(
      read({}, { GATEWAY_EMBEDDING_MODEL: "other", GATEWAY_LEMONADE_MODEL: "other" }),
    ).toMatchObject({
      embeddingModel: "user.harrier-oss-v1-0.6b",
      lemonadeModel: "user.gemma-4-31b-it",
    });
  });

  it("wraps secrets taken from the environment", () => {
    const wrapped: string[] = [];
    const settings = readSettings<{ secret: string }>(
      {
        get: (key) =>
          (({ ...usable, redisHost: "redis.internal" }) as Record<string, unknown>)[key],
        getSecret: () => undefined,
        wrapSecret: (value) => {
          wrapped.push(value);
          return { secret: value };
        },
      },
      { GATEWAY_ADMIN_KEY: "env-admin", GATEWAY_REDIS_PASSWORD: "redis-pw" },
      "dev",
    );

    expect(settings.adminKey).toEqual({ secret: "env-admin" });
    expect(settings.redis?.password).toEqual({ secret: "redis-pw" });
    expect(wrapped.sort()).toEqual(["env-admin", "redis-pw"]);
  });

  it("reads the LLM server key from secret config", () => {
    expect(read({}, {}, { ...adminKey, lemonadeApiKey: "Bearer llm" }).lemonadeApiKey).toBe(
      "Bearer llm",
    );
  });

  it("leaves redis unset without a host even when port and password are given", () => {
    const settings = read(
      { redisPort: "7000" },
      { GATEWAY_REDIS_PASSWORD: "redis-pw" },
      { ...adminKey, redisPassword: "pw" },
    );

    expect(settings.redis).toBeUndefined();
  });

  it("builds redis from config with the default port and a secret password", () => {
    const settings = read(
      { redisHost: "redis.internal" },
      {},
      { ...adminKey, redisPassword: "pw" },
    );

    expect(settings.redis).toEqual({ host: "redis.internal", port: 6379, password: "pw" });
  });

  it("leaves the redis password unset when neither config nor environment has one", () => {
    expect(read({ redisHost: "redis.internal" }).redis).toEqual({
      host: "redis.internal",
      port: 6379,
      password: undefined,
    });
  });

  it("does not need an admin key while the gateway is disabled", () => {
    const settings = read({ enabled: "false" }, {}, {});

    expect(settings.enabled).toBe(false);
    expect(settings.adminKey).toBeUndefined();
  });

  it("provisions etcd, Redis and APISIX on this machine by default", () => {
    const settings = readSettings(source({}, {}), {}, "dev");
    expect(settings.install).toBe(true);
    expect(settings.quotaPolicy).toBe("redis");
    expect(settings.provision).toEqual({
      ssh: undefined,
      services: ["etcd", "redis", "apisix"],
      baseDir: "/var/lib/ai-gateway",
      healthTimeoutSeconds: 60,
      purge: false,
      etcd: { package: "etcd-server", clientPort: 2379, peerPort: 2380 },
      redis: { package: "redis-server", port: 6379, password: undefined },
      apisix: {
        version: "3.18.0-0",
        repository: "https://repos.apiseven.com/packages/debian",
        suite: "debian12",
        adminListen: "127.0.0.1",
        adminPort: 9180,
        allowAdmin: ["127.0.0.0/24"],
        statusPort: 7085,
      },
    });
  });

  it("provisions over SSH when sshHost and sshPrivateKey are set", () => {
    const settings = readSettings(
      source(
        { sshHost: "10.1.2.3", sshPort: "2222", enabled: "false" },
        { sshPrivateKey: "PRIVATE" },
      ),
      {},
      "dev",
    );
    expect(settings.provision?.ssh).toEqual({
      host: "10.1.2.3",
      port: 2222,
      user: "root",
      privateKey: "PRIVATE",
      hostKey: undefined,
    });
  });

  it("rejects APISIX over SSH with its Admin API on the remote loopback", () => {
    const config = { sshHost: "10.1.2.3" };
    expect(() => readSettings(source(config, { sshPrivateKey: "K" }), {}, "dev")).toThrow(
      "Pulumi.dev.yaml: ai-gateway:sshHost puts APISIX on another machine, but its Admin API would listen on 127.0.0.1 there, out of this machine's reach; set ai-gateway:adminListen to an address this machine can reach and add this machine's address to ai-gateway:allowAdmin.",
    );
  });

  it("accepts APISIX over SSH with a reachable Admin API", () => {
    const config = { sshHost: "10.1.2.3", adminListen: "10.1.2.3", allowAdmin: ["10.1.2.0/24"] };
    const settings = readSettings(source(config, { sshPrivateKey: "K" }), {}, "dev");
    expect(settings.provision?.apisix.allowAdmin).toEqual(["10.1.2.0/24"]);
  });

  it("rejects sshHost without a private key", () => {
    expect(() => readSettings(source({ sshHost: "10.1.2.3" }, {}), {}, "dev")).toThrow(
      "Pulumi.dev.yaml: ai-gateway:sshHost is set but ai-gateway:sshPrivateKey is not; add the key with: npm run pulumi -- config set --secret ai-gateway:sshPrivateKey < ~/.ssh/id_ed25519",
    );
  });

  it("rejects an APISIX version older than 3.18", () => {
    expect(() => readSettings(source({ apisixVersion: "3.15.0-0" }, {}), {}, "dev")).toThrow(
      "Pulumi.dev.yaml: ai-gateway:apisixVersion must be a package version of APISIX 3.18 or later, such as 3.18.0-0; fix it with: npm run pulumi -- config set ai-gateway:apisixVersion <value>",
    );
  });

  it("rejects a redis quota policy with nothing to hold the counters", () => {
    const config = { install: "false", quotaPolicy: "redis" };
    expect(() => readSettings(source(config, adminKey), {}, "dev")).toThrow(
      "Pulumi.dev.yaml: ai-gateway:quotaPolicy is redis but no Redis is set or provisioned; set ai-gateway:redisHost, or install: true with redis in ai-gateway:services, or quotaPolicy local.",
    );
  });

  it("needs no admin key when it provisions APISIX itself", () => {
    expect(readSettings(source({}, {}), {}, "dev").adminKey).toBeUndefined();
  });

  it("requires an admin key while the gateway is enabled", () => {
    expect(() => read({}, {}, {})).toThrow(
      "Pulumi.dev.yaml: ai-gateway:adminKey is not set; give the Admin API key of the existing APISIX with: npm run pulumi -- config set --secret ai-gateway:adminKey (it asks for the value, which keeps it off the command line), or set GATEWAY_ADMIN_KEY.",
    );
  });

  it("treats an empty GATEWAY_ADMIN_KEY as unset", () => {
    expect(() => read({}, { GATEWAY_ADMIN_KEY: "" }, {})).toThrow(
      "Pulumi.dev.yaml: ai-gateway:adminKey is not set; give the Admin API key of the existing APISIX with: npm run pulumi -- config set --secret ai-gateway:adminKey (it asks for the value, which keeps it off the command line), or set GATEWAY_ADMIN_KEY.",
    );
  });

  it("throws a ConfigError that names the stack file of the stack", () => {
    let thrown: unknown;
    try {
      readSettings(source({ ...usable, mode: "solo" }, adminKey), {}, "hack-2026");
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(
      `Pulumi.hack-2026.yaml: ai-gateway:mode must be per-user or per-group${fixHint("mode")}`,
    );
  });

  it.each([
    ["mode", "solo", "must be per-user or per-group"],
    ["groupKeys", "each", "must be shared or per-user"],
    ["embeddingQuota", "pooled", "must be separate or shared"],
    ["rateLimitTokens", "abc", "must be a whole number"],
    ["rateLimitTokens", "1.5", "must be a whole number"],
    ["rateLimitTokens", "0", "must be at least 1"],
    ["rateLimitWindow", "-60", "must be at least 1"],
    ["embeddingRateLimitTokens", "0", "must be at least 1"],
    ["llmTimeoutSeconds", "-3", "must be at least 1"],
    ["proxyPort", "70000", "must be a port number (1-65535)"],
    ["redisPort", "0", "must be at least 1"],
    ["adminUrl", "localhost:9180", "must be an http:// or https:// URL"],
    ["adminUrl", "http://gw host:9180", "must be an http:// or https:// URL"],
    ["lemonadeApiPath", "v1", "must start with /"],
    ["embeddingModel", "", "must not be empty"],
  ])("rejects %s set to %j", (key, value, reason) => {
    expect(() => read({ [key]: value })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:${key} ${reason}${fixHint(key)}`,
    );
  });

  it("names the environment variable when the bad value came from there", () => {
    expect(() => read({}, { GATEWAY_MODE: "solo" })).toThrow(
      `environment variable GATEWAY_MODE must be per-user or per-group; fix the variable, or override it with: npm run pulumi -- config set ai-gateway:mode <value>`,
    );
  });

  it("names the environment variable for a bad port from the environment", () => {
    expect(() => read({}, { GATEWAY_REDIS_PORT: "99999" })).toThrow(
      `environment variable GATEWAY_REDIS_PORT must be a port number (1-65535); fix the variable, or override it with: npm run pulumi -- config set ai-gateway:redisPort <value>`,
    );
  });

  it("rejects an enabled value other than true or false", () => {
    expect(() => read({ enabled: "yes" })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:enabled must be true or false${fixHint("enabled")}`,
    );
  });

  it("rejects a lemonadeUrl that is not http with a hint on the accepted shapes", () => {
    expect(() => read({ lemonadeUrl: "ftp://llm" })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:lemonadeUrl Invalid input (a URL, or a list of URLs or {url, weight, priority} objects)${fixHint("lemonadeUrl")}`,
    );
  });

  it("rejects an empty list of LLM servers", () => {
    expect(() => read({ lemonadeUrl: [] })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:lemonadeUrl must list at least one server (a URL, or a list of URLs or {url, weight, priority} objects)${fixHint("lemonadeUrl")}`,
    );
  });

  it("points at the list entry with a negative weight", () => {
    expect(() => read({ lemonadeUrl: ["http://a:1", { url: "http://b:2", weight: -1 }] })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:lemonadeUrl at [1].weight must be 0 or more (a URL, or a list of URLs or {url, weight, priority} objects)${fixHint("lemonadeUrl")}`,
    );
  });

  it("rejects a misspelt server field", () => {
    expect(() => read({ lemonadeUrl: [{ url: "http://b:2", wieght: 3 }] })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:lemonadeUrl at [0] Unrecognized key(s) in object: 'wieght' (a URL, or a list of URLs or {url, weight, priority} objects)${fixHint("lemonadeUrl")}`,
    );
  });

  it("points at the keyRotation entry with a negative count", () => {
    expect(() => read({ keyRotation: { "alpha/bob": -1 } })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:keyRotation at alpha/bob must be 0 or more (a map such as {"alpha/alice": 1})${fixHint("keyRotation")}`,
    );
  });

  it("rejects a keyRotation that is not a map", () => {
    expect(() => read({ keyRotation: "alpha/bob=1" })).toThrow(
      `Pulumi.dev.yaml: ai-gateway:keyRotation Expected object, received string (a map such as {"alpha/alice": 1})${fixHint("keyRotation")}`,
    );
  });

  it("checks single-key values before the cross-key rules", () => {
    expect(() => readSettings(source({ mode: "solo" }), {}, "dev")).toThrow(
      `Pulumi.dev.yaml: ai-gateway:mode must be per-user or per-group${fixHint("mode")}`,
    );
  });
});
