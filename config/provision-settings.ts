import { z } from "zod";
import { boolean, httpUrl, port, positiveInt, text } from "./values";

/** A service that host provisioning can install and start. */
export type ServiceName = "etcd" | "redis" | "apisix";

/** What `install: true` provisions, and where. */
export interface ProvisionSettings<S> {
  /** SSH target; undefined means this machine. */
  ssh?: { host: string; port: number; user: string; privateKey: S; hostKey?: string };
  services: ServiceName[];
  /** Data, configuration, pid and log files of the services. */
  baseDir: string;
  healthTimeoutSeconds: number;
  /** On destroy, also remove packages, data and the APT source. */
  purge: boolean;
  etcd: { package: string; clientPort: number; peerPort: number };
  /** Set when this stack provisions Redis for the quota counters. */
  redis?: { package: string; port: number; password?: S };
  apisix: {
    version: string;
    repository: string;
    suite: string;
    adminListen: string;
    adminPort: number;
    allowAdmin: string[];
    statusPort: number;
  };
}

/** Stack config keys of host provisioning, merged into the stack's config schema. */
export const provisionConfigShape = {
  services: z
    .array(z.enum(["etcd", "redis", "apisix"], { message: "must be etcd, redis or apisix" }))
    .default(["etcd", "redis", "apisix"]),
  sshHost: text.optional(),
  sshPort: port.default(22),
  sshUser: text.default("root"),
  sshHostKey: text.optional(),
  serviceDir: z
    .string()
    .regex(/^\/\S+$/, "must be an absolute path")
    .default("/var/lib/ai-gateway"),
  healthTimeoutSeconds: positiveInt.default(60),
  purge: boolean.default(false),
  etcdPackage: text.default("etcd-server"),
  etcdPort: port.default(2379),
  etcdPeerPort: port.default(2380),
  redisPackage: text.default("redis-server"),
  apisixVersion: z
    .string()
    .regex(
      /^(3\.(1[89]|[2-9]\d)|[4-9]|\d{2,})[.\d]*-\d+$/,
      "must be a package version of APISIX 3.18 or later, such as 3.18.0-0",
    )
    .default("3.18.0-0"),
  apisixRepository: httpUrl.default("https://repos.apiseven.com/packages/debian"),
  apisixSuite: text.default("debian12"),
  adminListen: text.default("127.0.0.1"),
  adminPort: port.default(9180),
  allowAdmin: z
    .array(text)
    .min(1, "must list at least one address range")
    .default(["127.0.0.0/24"]),
  statusPort: port.default(7085),
};

/** The provisioning config values, plus the shared keys provisioning reads. */
export type ProvisionConfig = z.infer<z.ZodObject<typeof provisionConfigShape>> & {
  redisHost?: string;
  redisPort: number;
  quotaPolicy?: "local" | "redis";
};

/** Builds the provisioning settings from validated config values. */
export function provisionSettings<S>(
  plain: ProvisionConfig,
  secret: (key: string) => S | undefined,
): ProvisionSettings<S> {
  const privateKey = secret("sshPrivateKey");
  const provisionsRedis =
    plain.services.includes("redis") &&
    !plain.redisHost &&
    (plain.quotaPolicy ?? "redis") === "redis";
  return {
    ssh:
      plain.sshHost && privateKey !== undefined
        ? {
            host: plain.sshHost,
            port: plain.sshPort,
            user: plain.sshUser,
            privateKey,
            hostKey: plain.sshHostKey,
          }
        : undefined,
    services: plain.services,
    baseDir: plain.serviceDir,
    healthTimeoutSeconds: plain.healthTimeoutSeconds,
    purge: plain.purge,
    etcd: { package: plain.etcdPackage, clientPort: plain.etcdPort, peerPort: plain.etcdPeerPort },
    redis: provisionsRedis
      ? { package: plain.redisPackage, port: plain.redisPort, password: secret("redisPassword") }
      : undefined,
    apisix: {
      version: plain.apisixVersion,
      repository: plain.apisixRepository,
      suite: plain.apisixSuite,
      adminListen: plain.adminListen,
      adminPort: plain.adminPort,
      allowAdmin: plain.allowAdmin,
      statusPort: plain.statusPort,
    },
  };
}
