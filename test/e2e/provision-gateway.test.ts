import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayHarness, GatewayHarness, sampleRoster } from "./gateway-harness";
import { canConnect, freePort } from "./sshd";

describe("gateway on provisioned Redis", () => {
  let harness: GatewayHarness;
  let dir: string;
  let redisPort: number;

  beforeAll(async () => {
    harness = await createGatewayHarness("redisgw");
    dir = mkdtempSync(join(tmpdir(), "ai-gateway-redisgw-"));
    chmodSync(dir, 0o755);
    redisPort = await freePort();
    harness.writeGroups(sampleRoster);
    await harness.setConfig({
      install: "true",
      services: '["redis"]',
      serviceDir: join(dir, "services"),
      redisPort: String(redisPort),
      healthTimeoutSeconds: "10",
    });
  });

  afterAll(async () => {
    await harness?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("points every consumer's quota at the provisioned Redis and its generated password", async () => {
    await harness.up();
    const conf = readFileSync(join(dir, "services/conf/redis.conf"), "utf8");
    const password = /^requirepass "([^"]+)"$/m.exec(conf)![1];
    const alice = harness.double.get("consumers/alpha-alice") as any;
    expect(alice.plugins["ai-rate-limiting"]).toMatchObject({
      policy: "redis",
      redis_host: "127.0.0.1",
      redis_port: redisPort,
      redis_password: password,
    });
    const output = await harness.stack.pulumiOk(["stack", "export"]);
    expect(output).not.toContain(password);
  });

  it("records that gateway objects depend on the Redis service, so destroy removes them first", async () => {
    const exported = JSON.parse(await harness.stack.pulumiOk(["stack", "export"]));
    const resources: { urn: string; type: string; dependencies?: string[] }[] =
      exported.deployment.resources;
    const service = resources.find((r) => r.urn.endsWith("::redis-service"))!.urn;
    const routes = resources.filter((r) => r.type === "pulumi-nodejs:dynamic/apisix:Route");
    const consumers = resources.filter((r) => r.type === "pulumi-nodejs:dynamic/apisix:Consumer");
    expect(routes).toHaveLength(2);
    expect(consumers).toHaveLength(4);
    for (const resource of [...routes, ...consumers]) {
      expect(resource.dependencies, resource.urn).toContain(service);
    }
  });

  it("removes the gateway objects and stops Redis on destroy", async () => {
    await harness.stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    expect(harness.double.paths("consumers/")).toEqual([]);
    expect(await canConnect(redisPort)).toBe(false);
  });
});
