import * as pulumi from "@pulumi/pulumi";
import { GatewaySettings, ProvisionSettings } from "../config/settings";
import { Apisix } from "./apisix";
import { Etcd } from "./etcd";
import { HostTarget, localHost } from "./host";
import { Redis } from "./redis";

type Secret = pulumi.Output<string>;

/** The provisioned services, for wiring the gateway to them. */
export interface ProvisionedServices {
  apisix?: Apisix;
  /** Redis for the quota counters, as the consumers' ai-rate-limiting sees it. */
  redis?: { host: string; port: number; password: Secret };
  /** Every service component, for ordering. */
  all: pulumi.Resource[];
}

/** The host services go on: this machine, or the SSH target from the settings. */
export function hostOf(provision: ProvisionSettings<Secret>): HostTarget {
  const ssh = provision.ssh;
  if (!ssh) return localHost;
  return { label: `${ssh.user}@${ssh.host}:${ssh.port}`, ssh };
}

/**
 * Creates the etcd, Redis and APISIX components that the settings ask for, on one host. APISIX
 * waits for etcd; on destroy the order reverses.
 */
export function provisionServices(
  provision: ProvisionSettings<Secret>,
  settings: GatewaySettings<Secret>,
): ProvisionedServices {
  const host = hostOf(provision);
  const common = {
    host,
    baseDir: provision.baseDir,
    healthTimeoutSeconds: provision.healthTimeoutSeconds,
    purge: provision.purge,
  };
  const all: pulumi.Resource[] = [];
  const result: ProvisionedServices = { all };

  let etcd: Etcd | undefined;
  if (provision.services.includes("etcd")) {
    etcd = new Etcd("etcd", {
      ...common,
      clientPort: provision.etcd.clientPort,
      peerPort: provision.etcd.peerPort,
      packageName: provision.etcd.package,
    });
    all.push(etcd);
  }
  if (provision.redis) {
    const redis = new Redis("redis", {
      ...common,
      port: provision.redis.port,
      password: provision.redis.password,
      packageName: provision.redis.package,
    });
    all.push(redis);
    result.redis = { host: redis.host, port: redis.port, password: redis.password };
  }
  if (provision.services.includes("apisix")) {
    const apisix = new Apisix(
      "apisix",
      {
        ...common,
        ...provision.apisix,
        proxyPort: settings.proxyPort,
        etcdEndpoints: etcd ? etcd.endpoints : [`http://127.0.0.1:${provision.etcd.clientPort}`],
      },
      { dependsOn: etcd ? [etcd] : [] },
    );
    all.push(apisix);
    result.apisix = apisix;
  }
  return result;
}
