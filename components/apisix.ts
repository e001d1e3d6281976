import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { ApiKey } from "../providers/api-key";
import { createHostCommand, HostTarget } from "./host";
import { scriptHeader, shellQuote } from "./shell";

/** Arguments of the Apisix component. */
export interface ApisixArgs {
  /** Where to provision. */
  readonly host: HostTarget;
  /** Package version, 3.18 or later; default 3.18.0-0. */
  readonly version: string;
  /** APT repository; default https://repos.apiseven.com/packages/debian. */
  readonly repository: string;
  /** APT suite; default debian12. */
  readonly suite: string;
  /** etcd client URLs. */
  readonly etcdEndpoints: pulumi.Input<string[]>;
  /** Proxy port participants call; default 9080. */
  readonly proxyPort: number;
  /** Admin API address; default 127.0.0.1. */
  readonly adminListen: string;
  /** Admin API port; default 9180. */
  readonly adminPort: number;
  /** Address ranges allowed to call the Admin API; default 127.0.0.0/24. */
  readonly allowAdmin: string[];
  /** Status API port on loopback, used to wait until APISIX is ready; default 7085. */
  readonly statusPort: number;
  /** Seconds to wait for readiness; default 60. */
  readonly healthTimeoutSeconds: number;
  /** Remove the package, APT source and keyring on destroy; default false. */
  readonly purge: boolean;
}

/** Files APISIX provisioning writes on the host. */
export const apisixFiles = {
  config: "/usr/local/apisix/conf/config.yaml",
  /** The packaged config.yaml, kept so destroy can put it back. */
  original: "/usr/local/apisix/conf/config.yaml.before-ai-gateway",
  keyring: "/usr/share/keyrings/ai-gateway-apisix.gpg",
  source: "/etc/apt/sources.list.d/ai-gateway-apisix.list",
};

/**
 * Renders config.yaml. The admin key must be set: with an empty key APISIX generates one and
 * rewrites this file on start, which would show as drift on every run.
 */
export function renderApisixConfig(
  args: ApisixArgs,
  etcdEndpoints: string[],
  adminKey: string,
): string {
  if (adminKey.length < 32) throw new Error("the APISIX admin key must be at least 32 characters");
  const config = {
    apisix: {
      node_listen: [args.proxyPort],
      enable_admin: true,
      status: { ip: "127.0.0.1", port: args.statusPort },
    },
    deployment: {
      role: "traditional",
      role_traditional: { config_provider: "etcd" },
      admin: {
        admin_key_required: true,
        admin_key: [{ name: "ai-gateway", key: adminKey, role: "admin" }],
        admin_listen: { ip: args.adminListen, port: args.adminPort },
        allow_admin: args.allowAdmin,
      },
      etcd: { host: etcdEndpoints, prefix: "/apisix", timeout: 30 },
    },
  };
  return `# Written by ai-gateway (Pulumi); changes here are overwritten by the next run.\n${stringify(config)}`;
}

/** The URL of the repository's signing key: pubkey.gpg at the repository's origin. */
export function apisixKeyUrl(repository: string): string {
  return `${new URL(repository).origin}/pubkey.gpg`;
}

/**
 * Converging script: APT source with a signed-by keyring (no apt-key), the pinned package, the
 * rendered config from stdin, then start, or reload when the config changed, and wait for
 * /status/ready.
 */
export function apisixCreateScript(args: ApisixArgs): string {
  const f = apisixFiles;
  const source = `deb [signed-by=${f.keyring}] ${args.repository} ${args.suite} main`;
  const ready = `http://127.0.0.1:${args.statusPort}/status/ready`;
  return [
    scriptHeader("apisix", args.host.label),
    // Keep the config from stdin before anything else can read stdin (apt, gpg, curl).
    "CONFIG_IN=$(mktemp)",
    `trap 'rm -f "$CONFIG_IN"' EXIT`,
    'cat >"$CONFIG_IN"',
    "ensure_package ca-certificates",
    "ensure_package curl",
    "ensure_package gnupg",
    `if [ ! -s ${f.keyring} ]; then`,
    `  if ! { curl -fsSL ${shellQuote(apisixKeyUrl(args.repository))} -o ${f.keyring}.asc &&`,
    `    gpg --dearmor <${f.keyring}.asc >${f.keyring}.tmp && mv ${f.keyring}.tmp ${f.keyring}; }; then`,
    `    rm -f ${f.keyring}.asc ${f.keyring}.tmp`,
    `    fail "apisix on $HOST: could not fetch the APT signing key from ${apisixKeyUrl(args.repository)}; check the host's network or ai-gateway:apisixRepository"`,
    "  fi",
    `  rm -f ${f.keyring}.asc`,
    "fi",
    `printf '%s\\n' ${shellQuote(source)} | install_file ${f.source} 644 root:root && apt-get update -q >/dev/null`,
    `if [ "$(dpkg-query -W -f='\${Version}' apisix 2>/dev/null)" != ${shellQuote(args.version)} ]; then`,
    `  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades apisix=${shellQuote(args.version)} >/dev/null ||`,
    `    fail "apisix on $HOST: package apisix=${args.version} could not be installed; check ai-gateway:apisixVersion and the repository"`,
    "fi",
    `[ -f ${f.original} ] || cp -p ${f.config} ${f.original}`,
    "changed=no",
    `install_file ${f.config} 600 root:root <"$CONFIG_IN" && changed=yes`,
    "if has_systemd; then",
    "  systemctl enable -q apisix",
    '  if systemctl is-active -q apisix; then [ "$changed" = no ] || systemctl reload apisix; else systemctl start apisix; fi',
    'elif [ -f /usr/local/apisix/logs/nginx.pid ] && kill -0 "$(cat /usr/local/apisix/logs/nginx.pid)" 2>/dev/null; then',
    '  [ "$changed" = no ] || apisix reload',
    "else",
    "  apisix start",
    "fi",
    `wait_healthy ${args.healthTimeoutSeconds} curl -fsS --max-time 2 ${ready}`,
  ].join("\n");
}

/** Undo script: stop APISIX and put the packaged config back; with purge, remove it all. */
export function apisixDeleteScript(args: ApisixArgs): string {
  const f = apisixFiles;
  const lines = [
    scriptHeader("apisix", args.host.label),
    "if has_systemd; then systemctl disable -q --now apisix || true; elif command -v apisix >/dev/null; then apisix stop || true; fi",
    `[ ! -f ${f.original} ] || mv ${f.original} ${f.config}`,
  ];
  if (args.purge) {
    lines.push(
      "apt-get purge -y -q apisix >/dev/null || true",
      `rm -f ${f.source} ${f.keyring}`,
      "apt-get update -q >/dev/null || true",
    );
  }
  return lines.join("\n");
}

/** Apache APISIX from its official APT repository, configured against our etcd. */
export class Apisix extends pulumi.ComponentResource {
  /** Admin API URL as seen from the machine running Pulumi. */
  public readonly adminUrl: string;
  /** The generated admin key (32 random bytes); a secret. */
  public readonly adminKey: pulumi.Output<string>;

  constructor(name: string, args: ApisixArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:services:Apisix", name, {}, opts);

    // Children carry the component's dependencies so that destroy also stops APISIX only after
    // whatever depends on it is gone, and starts it only after etcd.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    const adminKey = new ApiKey(`${name}-admin-key`, 0, child).value;
    const config = pulumi
      .all([args.etcdEndpoints, adminKey])
      .apply(([endpoints, key]) => renderApisixConfig(args, endpoints, key));
    createHostCommand(
      args.host,
      `${name}-service`,
      { create: apisixCreateScript(args), delete: apisixDeleteScript(args), stdin: config },
      child,
    );

    const address = args.host.ssh ? args.host.ssh.host : "127.0.0.1";
    this.adminUrl = `http://${address}:${args.adminPort}`;
    this.adminKey = pulumi.secret(adminKey);
    this.registerOutputs({ adminUrl: this.adminUrl });
  }
}
