import { z } from "zod";
import { ConfigError, formatPath } from "./errors";
import { ProvisionSettings, provisionConfigShape, provisionSettings } from "./provision-settings";
import { boolean, httpUrl, port, positiveInt, text } from "./values";

export type { ProvisionSettings, ServiceName } from "./provision-settings";

/** Where stack config values come from; index.ts adapts `pulumi.Config`, tests pass objects. */
export interface SettingsSource<S> {
  /** A plain value: a string, or a parsed object for structured config. */
  get(key: string): unknown;
  /** A secret value, wrapped as the caller's secret type, or undefined when unset. */
  getSecret(key: string): S | undefined;
  /** Wraps a secret read from the environment the same way. */
  wrapSecret(value: string): S;
}

/** One LLM server behind the gateway. */
export interface LlmServer {
  url: string;
  /** Share of traffic among servers of the same priority. */
  weight: number;
  /** Higher priorities are tried first. */
  priority: number;
}

/** Validated stack settings; `S` is how secrets are carried (pulumi.Output in the program). */
export interface GatewaySettings<S> {
  stack: string;
  groupsFile: string;
  enabled: boolean;
  mode: "per-user" | "per-group";
  groupKeys: "shared" | "per-user";
  rateLimitTokens: number;
  rateLimitWindow: number;
  embedding: boolean;
  embeddingModel: string;
  embeddingQuota: "separate" | "shared";
  embeddingRateLimitTokens: number;
  lemonadeServers: LlmServer[];
  lemonadeApiPath: string;
  lemonadeApiKey?: S;
  lemonadeModel: string;
  llmTimeoutMs: number;
  /** Where ai-rate-limiting keeps counters: on each gateway node, or in Redis. */
  quotaPolicy: "local" | "redis";
  /** Redis for the counters when it is external (redisHost); provisioned Redis is added later. */
  redis?: { host: string; port: number; password?: S };
  externalIp: string;
  proxyPort: number;
  adminUrl: string;
  adminKey?: S;
  install: boolean;
  /** Set when install is true. */
  provision?: ProvisionSettings<S>;
  kiloDir: string;
  keyRotation: Record<string, number>;
}

/** Environment variables that stand in for unset config keys. */
export const envFallbacks: Record<string, string> = {
  enabled: "GATEWAY_ENABLED",
  mode: "GATEWAY_MODE",
  rateLimitTokens: "GATEWAY_RATE_LIMIT_TOKENS",
  rateLimitWindow: "GATEWAY_RATE_LIMIT_WINDOW",
  redisHost: "GATEWAY_REDIS_HOST",
  redisPort: "GATEWAY_REDIS_PORT",
  redisPassword: "GATEWAY_REDIS_PASSWORD",
  proxyPort: "GATEWAY_PROXY_PORT",
  adminUrl: "GATEWAY_ADMIN_URL",
  adminKey: "GATEWAY_ADMIN_KEY",
};

const serverSchema = z.union([
  httpUrl.transform((url) => ({ url, weight: 1, priority: 0 })),
  z
    .object({
      url: httpUrl,
      weight: z.number().int().min(0, "must be 0 or more").default(1),
      priority: z.number().int().default(0),
    })
    .strict(),
]);

const plainSchema = z.object({
  groupsFile: text.default("groups.yaml"),
  enabled: boolean.default(true),
  mode: z
    .enum(["per-user", "per-group"], { message: "must be per-user or per-group" })
    .default("per-user"),
  groupKeys: z
    .enum(["shared", "per-user"], { message: "must be shared or per-user" })
    .default("shared"),
  rateLimitTokens: positiveInt.default(500),
  rateLimitWindow: positiveInt.default(60),
  embedding: boolean.default(true),
  embeddingModel: text.default("user.harrier-oss-v1-0.6b"),
  embeddingQuota: z
    .enum(["separate", "shared"], { message: "must be separate or shared" })
    .default("separate"),
  embeddingRateLimitTokens: positiveInt.optional(),
  lemonadeUrl: z
    .union([
      serverSchema.transform((s) => [s]),
      z.array(serverSchema).min(1, "must list at least one server"),
    ])
    .default("http://127.0.0.1:13305"),
  lemonadeApiPath: z
    .string()
    .regex(/^\/\S*$/, "must start with /")
    .transform((p) => p.replace(/\/+$/, ""))
    .default("/v1"),
  lemonadeModel: text.default("user.gemma-4-31b-it"),
  llmTimeoutSeconds: positiveInt.default(600),
  // APISIX's ai-rate-limiting schema wants at least two characters here.
  redisHost: z.string().min(2, "must be a host name or address").optional(),
  redisPort: port.default(6379),
  externalIp: text.default("127.0.0.1"),
  proxyPort: port.default(9080),
  adminUrl: httpUrl.default("http://127.0.0.1:9180"),
  install: boolean.default(true),
  kiloDir: text.optional(),
  keyRotation: z.record(z.string(), z.number().int().min(0, "must be 0 or more")).default({}),
  quotaPolicy: z.enum(["local", "redis"], { message: "must be local or redis" }).optional(),
  ...provisionConfigShape,
});

const hints: Record<string, string> = {
  keyRotation: ` (a map such as {"alpha/alice": 1})`,
  services: ` (a list such as ["etcd", "redis", "apisix"])`,
  allowAdmin: ` (a list such as ["127.0.0.0/24"])`,
  lemonadeUrl: ` (a URL, or a list of URLs or {url, weight, priority} objects)`,
};

/** Reads, defaults and validates the stack config; throws ConfigError naming key and fix. */
export function readSettings<S>(
  source: SettingsSource<S>,
  env: NodeJS.ProcessEnv,
  stack: string,
): GatewaySettings<S> {
  const file = `Pulumi.${stack}.yaml`;
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const key of Object.keys(plainSchema.shape)) {
    const value = source.get(key);
    const envName = envFallbacks[key];
    if (value !== undefined) {
      raw[key] = value;
      origin[key] = `${file}: ai-gateway:${key}`;
    } else if (envName && env[envName] !== undefined && env[envName] !== "") {
      raw[key] = env[envName];
      origin[key] = `environment variable ${envName}`;
    }
  }
  const parsed = plainSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]);
    const where = origin[key] ?? `${file}: ai-gateway:${key}`;
    const detail = issue.path.length > 1 ? ` at ${formatPath(issue.path.slice(1))}` : "";
    const fix = where.startsWith("environment")
      ? `fix the variable, or override it with: npm run pulumi -- config set ai-gateway:${key} <value>`
      : `fix it with: npm run pulumi -- config set ai-gateway:${key} <value>`;
    throw new ConfigError(`${where}${detail} ${issue.message}${hints[key] ?? ""}; ${fix}`);
  }
  const plain = parsed.data;
  const secret = (key: string): S | undefined => {
    const fromConfig = source.getSecret(key);
    if (fromConfig !== undefined) return fromConfig;
    const value = envFallbacks[key] ? env[envFallbacks[key]] : undefined;
    return value ? source.wrapSecret(value) : undefined;
  };
  const provisionsRedis = plain.install && plain.services.includes("redis");
  const quotaPolicy = plain.quotaPolicy ?? (plain.redisHost || provisionsRedis ? "redis" : "local");
  const settings: GatewaySettings<S> = {
    stack,
    groupsFile: plain.groupsFile,
    enabled: plain.enabled,
    mode: plain.mode,
    groupKeys: plain.groupKeys,
    rateLimitTokens: plain.rateLimitTokens,
    rateLimitWindow: plain.rateLimitWindow,
    embedding: plain.embedding,
    embeddingModel: plain.embeddingModel,
    embeddingQuota: plain.embeddingQuota,
    embeddingRateLimitTokens: plain.embeddingRateLimitTokens ?? plain.rateLimitTokens,
    lemonadeServers: plain.lemonadeUrl,
    lemonadeApiPath: plain.lemonadeApiPath,
    lemonadeApiKey: secret("lemonadeApiKey"),
    lemonadeModel: plain.lemonadeModel,
    llmTimeoutMs: plain.llmTimeoutSeconds * 1000,
    quotaPolicy,
    redis:
      plain.redisHost && quotaPolicy === "redis"
        ? { host: plain.redisHost, port: plain.redisPort, password: secret("redisPassword") }
        : undefined,
    externalIp: plain.externalIp,
    proxyPort: plain.proxyPort,
    adminUrl: plain.adminUrl,
    adminKey: secret("adminKey"),
    install: plain.install,
    provision: plain.install ? provisionSettings(plain, secret) : undefined,
    kiloDir: plain.kiloDir ?? `kilo/${stack}`,
    keyRotation: plain.keyRotation,
  };
  assertUsable(settings, file, plain.sshHost);
  return settings;
}

/** Checks the rules that span several keys. */
function assertUsable<S>(settings: GatewaySettings<S>, file: string, sshHost?: string): void {
  const provision = settings.provision;
  if (sshHost && provision && !provision.ssh) {
    throw new ConfigError(
      `${file}: ai-gateway:sshHost is set but ai-gateway:sshPrivateKey is not; add the key with: npm run pulumi -- config set --secret ai-gateway:sshPrivateKey < ~/.ssh/id_ed25519`,
    );
  }
  const remoteLoopbackAdmin =
    provision?.ssh &&
    provision.services.includes("apisix") &&
    /^127\./.test(provision.apisix.adminListen);
  if (settings.enabled && remoteLoopbackAdmin) {
    throw new ConfigError(
      `${file}: ai-gateway:sshHost puts APISIX on another machine, but its Admin API would listen on ${provision.apisix.adminListen} there, out of this machine's reach; set ai-gateway:adminListen to an address this machine can reach and add this machine's address to ai-gateway:allowAdmin.`,
    );
  }
  if (
    settings.enabled &&
    settings.quotaPolicy === "redis" &&
    !settings.redis &&
    !provision?.redis
  ) {
    throw new ConfigError(
      `${file}: ai-gateway:quotaPolicy is redis but no Redis is set or provisioned; set ai-gateway:redisHost, or install: true with redis in ai-gateway:services, or quotaPolicy local.`,
    );
  }
  const generatesAdminKey = provision?.services.includes("apisix") ?? false;
  if (settings.enabled && settings.adminKey === undefined && !generatesAdminKey) {
    throw new ConfigError(
      `${file}: ai-gateway:adminKey is not set; give the Admin API key of the existing APISIX with: npm run pulumi -- config set --secret ai-gateway:adminKey (it asks for the value, which keeps it off the command line), or set GATEWAY_ADMIN_KEY.`,
    );
  }
}
