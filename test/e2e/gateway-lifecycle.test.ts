import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayHarness, GatewayHarness, sampleRoster } from "./gateway-harness";

/** The token of a credential on the double, without the "Bearer " prefix. */
function tokenAt(harness: GatewayHarness, path: string): string {
  const value = harness.double.get(path) as { plugins: { "key-auth": { key: string } } };
  return value.plugins["key-auth"].key.replace(/^Bearer /, "");
}

function kiloFile(harness: GatewayHarness, group: string, user: string) {
  const path = join(harness.kiloDir, group, user, "kilo.json");
  return { mode: statSync(path).mode & 0o777, config: JSON.parse(readFileSync(path, "utf8")) };
}

function writes(harness: GatewayHarness): string[] {
  return harness.double.calls
    .filter((call) => call.method !== "GET")
    .map((call) => `${call.method} ${call.path}`)
    .sort();
}

function chatLimit(harness: GatewayHarness, consumer: string): number {
  const value = harness.double.get(`consumers/${consumer}`) as {
    plugins: { "ai-rate-limiting": { instances: { name: string; limit: number }[] } };
  };
  return value.plugins["ai-rate-limiting"].instances.find((i) => i.name === "chat")!.limit;
}

describe("gateway lifecycle through the Pulumi CLI", () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await createGatewayHarness("life");
    harness.writeGroups(sampleRoster);
  });

  afterAll(async () => {
    await harness?.dispose();
  });

  it("creates routes, a consumer and credential per user, and kilo.json files in per-user mode", async () => {
    await harness.up();

    expect(harness.double.paths()).toEqual([
      "consumers/alpha-alice",
      "consumers/alpha-alice/credentials/alpha-alice",
      "consumers/alpha-bob",
      "consumers/alpha-bob/credentials/alpha-bob",
      "consumers/beta-dave",
      "consumers/beta-dave/credentials/beta-dave",
      "consumers/beta-eve",
      "consumers/beta-eve/credentials/beta-eve",
      "routes/ai-chat",
      "routes/ai-embeddings",
    ]);
    expect([chatLimit(harness, "alpha-alice"), chatLimit(harness, "alpha-bob")]).toEqual([
      800, 1000,
    ]);
    expect(chatLimit(harness, "beta-dave")).toBe(500);

    const alice = kiloFile(harness, "alpha", "alice");
    const token = tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice");
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(alice.mode).toBe(0o600);
    expect(alice.config.providers["lemonade-gateway"].apiKey).toBe(token);
    expect(alice.config.indexing["openai-compatible"].apiKey).toBe(token);

    const outputs = await harness.stack.outputs();
    expect(outputs.endpoints).toEqual({
      chat: "http://127.0.0.1:9080/v1/chat/completions",
      embeddings: "http://127.0.0.1:9080/v1/embeddings",
    });
    expect(outputs.consumers).toContainEqual({
      name: "alpha-bob",
      group: "alpha",
      users: ["bob"],
      limit: 1000,
      embeddingLimit: 500,
      window: 60,
    });
    expect((outputs.kilo as Record<string, unknown>)["alpha/alice"]).toEqual(alice.config);
  });

  it("reports no changes and writes nothing on a second run", async () => {
    harness.double.resetCalls();
    const preview = await harness.previewNoChanges();
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    const output = await harness.up();
    expect(output).toMatch(/Resources:\s+20 unchanged/);
    expect(writes(harness)).toEqual([]);
  });

  it("creates only the new user's objects when a user joins", async () => {
    const aliceBefore = tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice");
    harness.double.resetCalls();
    harness.writeGroups({
      groups: { ...sampleRoster.groups, beta: { users: ["dave", "eve", "frank"] } },
    });
    await harness.up();
    expect(writes(harness)).toEqual([
      "PUT consumers/beta-frank",
      "PUT consumers/beta-frank/credentials/beta-frank",
    ]);
    expect(kiloFile(harness, "beta", "frank").mode).toBe(0o600);
    expect(tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice")).toBe(aliceBefore);
  });

  it("deletes only the leaving user's objects and kilo.json", async () => {
    harness.double.resetCalls();
    harness.writeGroups(sampleRoster);
    await harness.up();
    expect(writes(harness)).toEqual([
      "DELETE consumers/beta-frank",
      "DELETE consumers/beta-frank/credentials/beta-frank",
    ]);
    expect(() => statSync(join(harness.kiloDir, "beta", "frank"))).toThrow(/ENOENT/);
  });

  it("updates a consumer in place when its limit changes, keeping its key", async () => {
    const before = tokenAt(harness, "consumers/beta-dave/credentials/beta-dave");
    harness.double.resetCalls();
    await harness.setConfig({ rateLimitTokens: "700" });
    await harness.up();
    // The embedding budget follows rateLimitTokens too, so alpha's consumers change as well.
    expect(writes(harness)).toEqual([
      "PUT consumers/alpha-alice",
      "PUT consumers/alpha-bob",
      "PUT consumers/beta-dave",
      "PUT consumers/beta-eve",
    ]);
    expect(chatLimit(harness, "beta-dave")).toBe(700);
    expect(chatLimit(harness, "alpha-alice")).toBe(800);
    expect(tokenAt(harness, "consumers/beta-dave/credentials/beta-dave")).toBe(before);
  });

  it("removes the embeddings route, budget and indexing when embedding is turned off, and restores them", async () => {
    await harness.setConfig({ embedding: "false" });
    await harness.up();
    expect(harness.double.get("routes/ai-embeddings")).toBeUndefined();
    const names = (harness.double.get("consumers/alpha-alice") as any).plugins[
      "ai-rate-limiting"
    ].instances.map((i: { name: string }) => i.name);
    expect(names).toEqual(["chat"]);
    expect(kiloFile(harness, "alpha", "alice").config.indexing).toBeUndefined();

    await harness.setConfig({ embedding: "true" });
    await harness.up();
    expect(harness.double.get("routes/ai-embeddings")).toBeDefined();
    expect(kiloFile(harness, "alpha", "alice").config.indexing.enabled).toBe(true);
  });

  it("gives one user a new key on rotation and leaves everyone else's alone", async () => {
    const alice = tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice");
    const bob = kiloFile(harness, "alpha", "bob").config;
    await harness.setConfig({ keyRotation: '{"alpha/alice": 1}' });
    await harness.up();
    const rotated = tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice");
    expect(rotated).not.toBe(alice);
    expect(kiloFile(harness, "alpha", "alice").config.providers["lemonade-gateway"].apiKey).toBe(
      rotated,
    );
    expect(kiloFile(harness, "alpha", "bob").config).toEqual(bob);
  });

  it("moves users under one group consumer with their own keys in per-group mode", async () => {
    const alice = tokenAt(harness, "consumers/alpha-alice/credentials/alpha-alice");
    await harness.setConfig({ mode: "per-group", groupKeys: "per-user" });
    await harness.up();
    expect(harness.double.paths("consumers/")).toEqual([
      "consumers/group-alpha",
      "consumers/group-alpha/credentials/alpha-alice",
      "consumers/group-alpha/credentials/alpha-bob",
      "consumers/group-beta",
      "consumers/group-beta/credentials/beta-dave",
      "consumers/group-beta/credentials/beta-eve",
    ]);
    // The pool is the sum of the members' limits: alice 800 + bob 1000; dave and eve 700 each.
    expect(chatLimit(harness, "group-alpha")).toBe(1800);
    expect(chatLimit(harness, "group-beta")).toBe(1400);
    expect(tokenAt(harness, "consumers/group-alpha/credentials/alpha-alice")).toBe(alice);
  });

  it("gives every member of a group the same key with shared group keys", async () => {
    await harness.setConfig({ groupKeys: "shared" });
    await harness.up();
    expect(harness.double.paths("consumers/group-beta")).toEqual([
      "consumers/group-beta",
      "consumers/group-beta/credentials/group-beta",
    ]);
    const shared = tokenAt(harness, "consumers/group-beta/credentials/group-beta");
    expect(kiloFile(harness, "beta", "dave").config.providers["lemonade-gateway"].apiKey).toBe(
      shared,
    );
    expect(kiloFile(harness, "beta", "eve").config.providers["lemonade-gateway"].apiKey).toBe(
      shared,
    );
  });

  it("sends the LLM server key upstream as a Bearer header without showing it in the diff", async () => {
    await harness.stack.pulumiOk([
      "config",
      "set",
      "--secret",
      "ai-gateway:lemonadeApiKey",
      "llm-secret-42",
    ]);
    const output = await harness.up();
    expect(output).not.toContain("llm-secret-42");
    const chat = harness.double.get("routes/ai-chat") as any;
    expect(chat.plugins["ai-proxy-multi"].instances[0].auth).toEqual({
      header: { Authorization: "Bearer llm-secret-42" },
    });
    const state = await harness.stack.pulumiOk(["stack", "export"]);
    expect(state).not.toContain("llm-secret-42");
  });
});
