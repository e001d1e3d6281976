import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayHarness, GatewayHarness, sampleRoster } from "./gateway-harness";

describe("gateway failures through the Pulumi CLI", () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await createGatewayHarness("fail");
  });

  afterAll(async () => {
    harness.double.failures.length = 0;
    harness.double.delayMs = 0;
    await harness?.dispose();
  });

  it("fails on a bad groups.yaml before any request reaches the Admin API", async () => {
    harness.writeGroups({
      groups: { alpha: { users: ["alice", { name: "bob", rateLimitTokens: 0 }] } },
    });
    const result = await harness.tryUp();
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      `${join(harness.dir, "groups.yaml")}: groups.alpha.users[1].rateLimitTokens must be at least 1 token; correct the value.`,
    );
    expect(harness.double.calls).toEqual([]);
  });

  it("fails on colliding user names before any request reaches the Admin API", async () => {
    harness.writeGroups({ groups: { alpha: { users: ["bob smith", "bob_smith"] } } });
    const result = await harness.tryUp();
    expect(result.stdout).toContain(
      `groups.alpha.users[1] "bob_smith" and users[0] "bob smith" are the same user once names are made APISIX-safe ("bob_smith"); rename or remove one of them.`,
    );
    expect(harness.double.calls).toEqual([]);
  });

  it("fails on a bad config value before any request reaches the Admin API", async () => {
    harness.writeGroups(sampleRoster);
    await harness.setConfig({ mode: "per-team" });
    const result = await harness.tryUp();
    expect(result.stdout).toContain(
      `Pulumi.${harness.stack.name}.yaml: ai-gateway:mode must be per-user or per-group; fix it with: npm run pulumi -- config set ai-gateway:mode <value>`,
    );
    expect(harness.double.calls).toEqual([]);
    await harness.setConfig({ mode: "per-user" });
  });

  it("stops at an Admin API failure half-way and completes on the next up", async () => {
    harness.double.failures.push({
      when: (method, path) => method === "PUT" && path.startsWith("consumers/beta-"),
      status: 500,
      times: 100,
    });
    const failed = await harness.tryUp();
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toMatch(
      /APISIX PUT \/apisix\/admin\/consumers\/beta-(dave|eve) returned 500: injected failure; check the APISIX error log\./,
    );
    expect(harness.double.get("consumers/alpha-alice")).toBeDefined();
    expect(harness.double.get("consumers/beta-dave")).toBeUndefined();
    expect(existsSync(join(harness.kiloDir, "beta", "dave", "kilo.json"))).toBe(false);

    harness.double.failures.length = 0;
    await harness.up();
    expect(harness.double.paths("consumers/beta-")).toHaveLength(4);
    expect(existsSync(join(harness.kiloDir, "beta", "dave", "kilo.json"))).toBe(true);
    expect((await harness.previewNoChanges()).code).toBe(0);
  });

  it("retries a transient failure and succeeds without help", async () => {
    harness.double.failures.push({ when: (method) => method === "PUT", status: 503, times: 1 });
    await harness.setConfig({ rateLimitTokens: "600" });
    await harness.up();
    expect(harness.double.calls.filter((call) => call.status === 503)).toHaveLength(1);
    expect(harness.double.failures[0].times).toBe(0);
  });

  it("waits for slow answers", async () => {
    harness.double.delayMs = 300;
    await harness.setConfig({ rateLimitWindow: "120" });
    await harness.up();
    harness.double.delayMs = 0;
    const alice = harness.double.get("consumers/alpha-alice") as any;
    expect(alice.plugins["ai-rate-limiting"].instances[0].time_window).toBe(120);
  });

  it("names the Admin API URL when the connection is refused, and converges once it is back", async () => {
    await harness.double.stop();
    await harness.setConfig({ rateLimitWindow: "90" });
    const failed = await harness.tryUp();
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toContain(
      `failed: ECONNREFUSED; check that APISIX runs and that ai-gateway:adminUrl (${harness.double.url}) points at its Admin API.`,
    );
    await harness.double.start();
    await harness.up();
    const alice = harness.double.get("consumers/alpha-alice") as any;
    expect(alice.plugins["ai-rate-limiting"].instances[0].time_window).toBe(90);
  });
});
