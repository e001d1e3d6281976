import * as pulumi from "@pulumi/pulumi";
import { createHostCommand, HostTarget } from "./host";
import { purgeLines, scriptHeader, servicePaths, shellQuote } from "./shell";

/** Arguments of the Etcd component. */
export interface EtcdArgs {
  /** Where to provision. */
  readonly host: HostTarget;
  /** Folder for data, pid and log files; default /var/lib/ai-gateway. */
  readonly baseDir: string;
  /** Client port on loopback; default 2379. */
  readonly clientPort: number;
  /** Peer port on loopback; default 2380. */
  readonly peerPort: number;
  /** Debian package; default etcd-server. */
  readonly packageName: string;
  /** Seconds to wait for health; default 60. */
  readonly healthTimeoutSeconds: number;
  /** Remove the package and data on destroy; default false. */
  readonly purge: boolean;
}

/** The etcd command line: one member on loopback with its own data directory. */
export function etcdCommandLine(args: EtcdArgs): string[] {
  const client = `http://127.0.0.1:${args.clientPort}`;
  const peer = `http://127.0.0.1:${args.peerPort}`;
  return [
    "/usr/bin/etcd",
    "--name=ai-gateway",
    `--data-dir=${servicePaths(args.baseDir, "etcd").data}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=ai-gateway=${peer}`,
  ];
}

/** Converging script: package, data directory, service, health. */
export function etcdCreateScript(args: EtcdArgs): string {
  const paths = servicePaths(args.baseDir, "etcd");
  const health = `http://127.0.0.1:${args.clientPort}/health`;
  return [
    scriptHeader("etcd", args.host.label),
    `ensure_package ${shellQuote(args.packageName)} etcd.service`,
    "ensure_package curl",
    `install -d -m 700 -o etcd -g etcd ${shellQuote(paths.data)}`,
    `start_service etcd etcd no ${shellQuote(paths.run)} ${shellQuote(paths.log)} ${etcdCommandLine(args).join(" ")}`,
    `wait_healthy ${args.healthTimeoutSeconds} curl -fsS --max-time 2 ${health}`,
  ].join("\n");
}

/** Undo script: stop the service; with purge, remove data and package too. */
export function etcdDeleteScript(args: EtcdArgs): string {
  const paths = servicePaths(args.baseDir, "etcd");
  const lines = [
    scriptHeader("etcd", args.host.label),
    `stop_service etcd ${shellQuote(paths.run)}`,
  ];
  if (args.purge) lines.push(...purgeLines(paths.data, args.packageName));
  return lines.join("\n");
}

/** etcd for APISIX's configuration, installed from Debian and listening on loopback only. */
export class Etcd extends pulumi.ComponentResource {
  /** Client URLs for APISIX's deployment.etcd.host. */
  public readonly endpoints: string[];

  constructor(name: string, args: EtcdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:services:Etcd", name, {}, opts);

    createHostCommand(
      args.host,
      `${name}-service`,
      { create: etcdCreateScript(args), delete: etcdDeleteScript(args) },
      { parent: this, dependsOn: opts?.dependsOn },
    );

    this.endpoints = [`http://127.0.0.1:${args.clientPort}`];
    this.registerOutputs({ endpoints: this.endpoints });
  }
}
