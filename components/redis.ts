import * as pulumi from "@pulumi/pulumi";
import { ApiKey } from "../providers/api-key";
import { createHostCommand, HostTarget } from "./host";
import { purgeLines, scriptHeader, servicePaths, shellQuote } from "./shell";

/** Arguments of the Redis component. */
export interface RedisArgs {
  /** Where to provision. */
  readonly host: HostTarget;
  /** Folder for configuration, data, pid and log files; default /var/lib/ai-gateway. */
  readonly baseDir: string;
  /** Port on loopback; default 6379. */
  readonly port: number;
  /** Password; a secret. Default: 32 random bytes generated once. */
  readonly password?: pulumi.Input<string>;
  /** Debian package; default redis-server. */
  readonly packageName: string;
  /** Seconds to wait for health; default 60. */
  readonly healthTimeoutSeconds: number;
  /** Remove the package and data on destroy; default false. */
  readonly purge: boolean;
}

/** The redis.conf body, without the password line (that one is added on the host from stdin). */
export function renderRedisConfig(args: RedisArgs): string {
  const paths = servicePaths(args.baseDir, "redis");
  return [
    "bind 127.0.0.1 -::1",
    "protected-mode yes",
    `port ${args.port}`,
    "daemonize no",
    `dir ${paths.data}`,
    "appendonly no",
    'save ""',
    "",
  ].join("\n");
}

/**
 * Converging script. The password arrives as the first line of stdin and goes only into the
 * config file (mode 0600, owned by redis) and REDISCLI_AUTH for the health check.
 */
export function redisCreateScript(args: RedisArgs): string {
  const paths = servicePaths(args.baseDir, "redis");
  const conf = `${paths.conf}/redis.conf`;
  return [
    scriptHeader("redis", args.host.label),
    "IFS= read -r REDIS_PASSWORD || true",
    '[ -n "$REDIS_PASSWORD" ] || fail "redis on $HOST: no password arrived on stdin"',
    `ensure_package ${shellQuote(args.packageName)} redis-server.service`,
    `install -d -m 750 -o redis -g redis ${shellQuote(paths.data)} ${shellQuote(paths.conf)}`,
    "changed=no",
    // Quoted, with \\ and " escaped, so that any configured password parses in redis.conf.
    `QUOTED=$(printf '%s' "$REDIS_PASSWORD" | sed 's/[\\\\"]/\\\\&/g')`,
    `{ printf '%s' ${shellQuote(renderRedisConfig(args))}; printf 'requirepass "%s"\\n' "$QUOTED"; } | install_file ${shellQuote(conf)} 600 redis:redis && changed=yes`,
    `start_service redis redis "$changed" ${shellQuote(paths.run)} ${shellQuote(paths.log)} /usr/bin/redis-server ${shellQuote(conf)}`,
    'export REDISCLI_AUTH="$REDIS_PASSWORD"',
    `wait_healthy ${args.healthTimeoutSeconds} sh -c ${shellQuote(
      `out=$(timeout 3 redis-cli -h 127.0.0.1 -p ${args.port} ping 2>&1); [ "$out" = PONG ] || { printf '%s' "$out"; exit 1; }`,
    )}`,
  ].join("\n");
}

/** Undo script: stop the service and remove its config; with purge, data and package too. */
export function redisDeleteScript(args: RedisArgs): string {
  const paths = servicePaths(args.baseDir, "redis");
  const lines = [
    scriptHeader("redis", args.host.label),
    `stop_service redis ${shellQuote(paths.run)}`,
    `rm -f ${shellQuote(`${paths.conf}/redis.conf`)}`,
  ];
  if (args.purge) lines.push(...purgeLines(paths.data, args.packageName));
  return lines.join("\n");
}

/** Redis for the gateway's quota counters, bound to loopback and protected by a password. */
export class Redis extends pulumi.ComponentResource {
  /** Address APISIX on the same host uses. */
  public readonly host: string;
  public readonly port: number;
  /** The password; a secret. */
  public readonly password: pulumi.Output<string>;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:services:Redis", name, {}, opts);

    const child = { parent: this, dependsOn: opts?.dependsOn };
    const password = args.password
      ? pulumi.secret(args.password)
      : new ApiKey(`${name}-password`, 0, child).value;
    createHostCommand(
      args.host,
      `${name}-service`,
      {
        create: redisCreateScript(args),
        delete: redisDeleteScript(args),
        stdin: pulumi.interpolate`${password}\n`,
      },
      child,
    );

    this.host = "127.0.0.1";
    this.port = args.port;
    this.password = password;
    this.registerOutputs({ host: this.host, port: this.port });
  }
}
