import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { GatewaySettings, ProvisionSettings } from "../../config/settings";
import { settingsFor } from "../config/fixtures";
import {
  apiKeyOutputs,
  findRegistration,
  isSecret,
  mockKey,
  Registration,
  resetMocks,
  settled,
  unwrap,
  urnOf,
} from "./registrations";

type Secret = pulumi.Output<string>;
type ServicesModule = typeof import("../../components/services");

let services: ServicesModule;

function provisionFor(
  overrides: Partial<ProvisionSettings<Secret>> = {},
): ProvisionSettings<Secret> {
  return {
    services: ["etcd", "redis", "apisix"],
    baseDir: "/srv/gateway",
    healthTimeoutSeconds: 40,
    purge: false,
    etcd: { package: "etcd-server", clientPort: 12379, peerPort: 12380 },
    redis: { package: "redis-server", port: 16379 },
    apisix: {
      version: "3.18.0-0",
      repository: "https://repos.apiseven.com/packages/debian",
      suite: "debian12",
      adminListen: "127.0.0.1",
      adminPort: 19180,
      allowAdmin: ["127.0.0.0/24"],
      statusPort: 17085,
    },
    ...overrides,
  };
}

/** Builds the services under fresh mocks and returns what was registered. */
async function provision(provisionSettings: ProvisionSettings<Secret>) {
  const registrations = await resetMocks({ outputs: apiKeyOutputs });
  // provisionServices reads only proxyPort; the secret-typed fields are left out.
  const settings: GatewaySettings<Secret> = {
    ...settingsFor({ proxyPort: 18080 }),
    adminKey: undefined,
    lemonadeApiKey: undefined,
    redis: undefined,
    provision: undefined,
  };
  const result = services.provisionServices(provisionSettings, settings);
  await settled();
  return { result, registrations };
}

beforeAll(async () => {
  await resetMocks({ outputs: apiKeyOutputs });
  services = await import("../../components/services");
});

describe("provisionServices on this machine", () => {
  let list: Registration[];
  let result: ReturnType<ServicesModule["provisionServices"]>;

  beforeAll(async () => {
    ({ result, registrations: list } = await provision(provisionFor()));
  });

  it("registers the three components, their commands and the two generated keys", () => {
    expect(list.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "ai-gateway:services:Apisix apisix",
      "ai-gateway:services:Etcd etcd",
      "ai-gateway:services:Redis redis",
      "command:local:Command apisix-service",
      "command:local:Command etcd-service",
      "command:local:Command redis-service",
      "pulumi-nodejs:dynamic/gateway:ApiKey apisix-admin-key",
      "pulumi-nodejs:dynamic/gateway:ApiKey redis-password",
    ]);
  });

  it("parents each command and key to its component", () => {
    const parentName = (name: string) => findRegistration(list, name).parent.split("::").pop();

    expect(parentName("etcd-service")).toBe("etcd");
    expect(parentName("redis-service")).toBe("redis");
    expect(parentName("redis-password")).toBe("redis");
    expect(parentName("apisix-service")).toBe("apisix");
    expect(parentName("apisix-admin-key")).toBe("apisix");
    expect(findRegistration(list, "apisix").parent).toBe("");
  });

  it("makes APISIX and its command depend on the etcd command", () => {
    const etcdCommand = urnOf(findRegistration(list, "etcd-service"));

    expect(findRegistration(list, "apisix").dependencies).toEqual([etcdCommand]);
    expect(findRegistration(list, "apisix-service").dependencies).toContain(etcdCommand);
    expect(findRegistration(list, "etcd").dependencies).toEqual([]);
  });

  it("serializes the ApiKey provider and marks its value as a secret output", () => {
    const key = findRegistration(list, "apisix-admin-key");

    expect(key.custom).toBe(true);
    expect(typeof unwrap(key.inputs.__provider)).toBe("string");
    expect(unwrap(key.inputs.__provider)).toContain("randomBytes(32)");
    expect(key.inputs.rotation).toBe(0);
    expect(key.additionalSecretOutputs).toEqual(["value"]);
  });

  it("runs every command locally through /bin/sh with create as update and no stdin for etcd", () => {
    for (const name of ["etcd-service", "redis-service", "apisix-service"]) {
      const inputs = findRegistration(list, name).inputs;
      expect(inputs.interpreter).toEqual(["/bin/sh", "-c"]);
      expect(inputs.logging).toBe("stdoutAndStderr");
      expect(inputs.update).toBe(inputs.create);
      expect(typeof inputs.delete).toBe("string");
      expect(inputs.connection).toBeUndefined();
    }
    expect(findRegistration(list, "etcd-service").inputs.stdin).toBeUndefined();
  });

  it("sends the APISIX config as secret stdin and keeps the key out of the scripts", () => {
    const inputs = findRegistration(list, "apisix-service").inputs;
    const key = mockKey("apisix-admin-key");

    expect(isSecret(inputs.stdin)).toBe(true);
    const config = parse(unwrap(inputs.stdin) as string);
    expect(config.deployment.admin.admin_key).toEqual([{ name: "ai-gateway", key, role: "admin" }]);
    expect(config.deployment.etcd.host).toEqual(["http://127.0.0.1:12379"]);
    expect(config.apisix.node_listen).toEqual([18080]);
    expect(JSON.stringify([inputs.create, inputs.update, inputs.delete])).not.toContain(key);
  });

  it("sends the generated Redis password as secret stdin and keeps it out of the scripts", () => {
    const inputs = findRegistration(list, "redis-service").inputs;
    const password = mockKey("redis-password");

    expect(isSecret(inputs.stdin)).toBe(true);
    expect(unwrap(inputs.stdin)).toBe(`${password}\n`);
    expect(JSON.stringify([inputs.create, inputs.update, inputs.delete])).not.toContain(password);
  });

  it("returns the components, the Redis address and the admin URL on loopback", async () => {
    const names = await Promise.all(
      result.all.map((resource) => new Promise((resolve) => resource.urn.apply(resolve))),
    );
    expect(names.map((urn) => String(urn).split("::").pop())).toEqual(["etcd", "redis", "apisix"]);
    expect(result.redis?.host).toBe("127.0.0.1");
    expect(result.redis?.port).toBe(16379);
    expect(result.apisix?.adminUrl).toBe("http://127.0.0.1:19180");
    const password = await new Promise((resolve) => result.redis?.password.apply(resolve));
    expect(password).toBe(mockKey("redis-password"));
    expect(await pulumi.isSecret(result.apisix!.adminKey)).toBe(true);
  });
});

describe("provisionServices with a Redis password from config", () => {
  it("uses the password and generates none", async () => {
    const { registrations: list } = await provision(
      provisionFor({
        redis: { package: "redis-server", port: 16379, password: pulumi.secret("configured-pw") },
      }),
    );

    expect(list.map((r) => r.name)).not.toContain("redis-password");
    const stdin = findRegistration(list, "redis-service").inputs.stdin;
    expect(isSecret(stdin)).toBe(true);
    expect(unwrap(stdin)).toBe("configured-pw\n");
  });
});

describe("provisionServices over SSH", () => {
  let list: Registration[];
  let result: ReturnType<ServicesModule["provisionServices"]>;

  beforeAll(async () => {
    ({ result, registrations: list } = await provision(
      provisionFor({
        ssh: {
          host: "10.0.0.5",
          port: 2222,
          user: "ops",
          privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
          hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample",
        },
      }),
    ));
  });

  it("registers remote commands and no local ones", () => {
    const commands = list.filter((r) => r.type.startsWith("command:"));

    expect(commands.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "command:remote:Command apisix-service",
      "command:remote:Command etcd-service",
      "command:remote:Command redis-service",
    ]);
  });

  it("connects with the host, port, user and host key, and the private key as a secret", () => {
    for (const name of ["etcd-service", "redis-service", "apisix-service"]) {
      const inputs = findRegistration(list, name).inputs;
      expect(inputs.interpreter).toBeUndefined();
      expect(isSecret(inputs.connection)).toBe(true);
      expect(unwrap(inputs.connection)).toEqual({
        host: "10.0.0.5",
        port: 2222,
        user: "ops",
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample",
        dialErrorLimit: 3,
        perDialTimeout: 15,
      });
    }
  });

  it("names the SSH target in the scripts' messages", () => {
    expect(findRegistration(list, "etcd-service").inputs.create).toContain(
      "\nHOST='ops@10.0.0.5:2222'\n",
    );
  });

  it("points the admin URL at the SSH host", () => {
    expect(result.apisix?.adminUrl).toBe("http://10.0.0.5:19180");
  });
});

describe("provisionServices without Redis", () => {
  it("registers etcd and APISIX only", async () => {
    const { result, registrations: list } = await provision(
      provisionFor({ services: ["etcd", "apisix"], redis: undefined }),
    );

    expect(list.map((r) => r.name).sort()).toEqual([
      "apisix",
      "apisix-admin-key",
      "apisix-service",
      "etcd",
      "etcd-service",
    ]);
    expect(result.redis).toBeUndefined();
  });
});

describe("provisionServices with APISIX only", () => {
  it("points APISIX at etcd on the configured client port and depends on nothing", async () => {
    const { registrations: list } = await provision(
      provisionFor({ services: ["apisix"], redis: undefined }),
    );

    expect(list.map((r) => r.name).sort()).toEqual([
      "apisix",
      "apisix-admin-key",
      "apisix-service",
    ]);
    expect(findRegistration(list, "apisix").dependencies).toEqual([]);
    const config = parse(unwrap(findRegistration(list, "apisix-service").inputs.stdin) as string);
    expect(config.deployment.etcd.host).toEqual(["http://127.0.0.1:12379"]);
  });
});
