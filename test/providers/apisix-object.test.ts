import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ApisixObjectInputs,
  apisixObjectProvider as provider,
} from "../../providers/apisix-object";
import { ApisixDouble } from "../apisix-double/server";

const owner = { "managed-by": "ai-gateway", "ai-gateway-stack": "unit" };

describe("apisixObjectProvider", () => {
  const double = new ApisixDouble("object-test-key");
  const consumer = (limit = 500): ApisixObjectInputs => ({
    path: "consumers/alpha-alice",
    adminUrl: double.url,
    adminKey: "object-test-key",
    owner,
    body: {
      username: "alpha-alice",
      labels: owner,
      plugins: {
        "ai-rate-limiting": {
          instances: [{ name: "chat", limit, time_window: 60 }],
          rejected_code: 429,
        },
      },
    },
    secrets: {},
  });
  const credential = (): ApisixObjectInputs => ({
    ...consumer(),
    path: "consumers/alpha-alice/credentials/alpha-alice",
    body: { labels: owner, plugins: { "key-auth": {} } },
    secrets: { "plugins.key-auth.key": "Bearer token-1" },
  });

  beforeAll(() => double.start());
  afterAll(() => double.stop());
  beforeEach(() => {
    for (const path of double.paths()) double.remove(path);
  });

  it("creates an object with its secrets merged into the body and the path as id", async () => {
    await provider.create(consumer());
    const result = await provider.create(credential());
    expect(result.id).toBe("consumers/alpha-alice/credentials/alpha-alice");
    expect(double.get(result.id)).toMatchObject({
      plugins: { "key-auth": { key: "Bearer token-1" } },
    });
  });

  it("refuses to create over an object without this stack's labels", async () => {
    double.seed("consumers/alpha-alice", { username: "alpha-alice" });
    await expect(provider.create(consumer())).rejects.toThrow(
      "APISIX object /apisix/admin/consumers/alpha-alice already exists and was not created by this stack",
    );
    expect(double.get("consumers/alpha-alice")).toEqual({ username: "alpha-alice" });
  });

  it("takes over its own object left by an interrupted run", async () => {
    double.seed("consumers/alpha-alice", consumer(1).body);
    await provider.create(consumer(700));
    expect(double.get("consumers/alpha-alice")).toMatchObject(consumer(700).body);
  });

  it("reads the live body back, splitting secrets out and dropping server fields", async () => {
    await provider.create(consumer());
    await provider.create(credential());
    const read = await provider.read!(credential().path, credential());
    expect(read.props).toEqual({ ...credential() });
    expect(read.inputs).toEqual(read.props);
  });

  it("reports an object deleted behind its back as gone", async () => {
    expect(await provider.read!("consumers/alpha-alice", consumer())).toEqual({});
  });

  it("sees a changed limit as a change and a changed path as a replacement that deletes first", async () => {
    expect(await provider.diff!("x", consumer(), consumer())).toEqual({ changes: false });
    expect(await provider.diff!("x", consumer(), consumer(600))).toEqual({ changes: true });
    const moved = { ...consumer(), path: "consumers/group-alpha" };
    expect(await provider.diff!("x", consumer(), moved)).toEqual({
      changes: true,
      replaces: ["path"],
      deleteBeforeReplace: true,
    });
  });

  it("deletes its own object, treats a missing one as gone and leaves a foreign one alone", async () => {
    await provider.create(consumer());
    await provider.delete!("consumers/alpha-alice", consumer());
    expect(double.get("consumers/alpha-alice")).toBeUndefined();
    await provider.delete!("consumers/alpha-alice", consumer());
    double.seed("consumers/alpha-alice", { username: "alpha-alice" });
    await provider.delete!("consumers/alpha-alice", consumer());
    expect(double.get("consumers/alpha-alice")).toEqual({ username: "alpha-alice" });
  });

  it("fails check for a path outside routes and consumers", async () => {
    const result = await provider.check!({}, { ...consumer(), path: "upstreams/1" });
    expect(result.failures).toEqual([
      { property: "path", reason: '"upstreams/1" is no route, consumer or credential path' },
    ]);
  });
});
