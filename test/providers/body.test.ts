import { describe, expect, it } from "vitest";
import {
  cloneJson,
  jsonEqual,
  mergeSecrets,
  serverFields,
  splitSecrets,
} from "../../providers/body";

describe("cloneJson", () => {
  it("returns an equal copy that shares no objects with the original", () => {
    const original = { a: [1, { b: "x" }], c: { d: null } };
    const copy = cloneJson(original);

    expect(copy).toEqual(original);
    (copy.a[1] as { b: string }).b = "changed";
    expect(original.a[1]).toEqual({ b: "x" });
  });

  it("drops undefined fields as JSON does", () => {
    expect(cloneJson({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(Object.keys(cloneJson({ a: 1, b: undefined }))).toEqual(["a"]);
  });
});

describe("jsonEqual", () => {
  it("ignores the key order of objects at every depth", () => {
    expect(jsonEqual({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toBe(true);
  });

  it("respects the order of arrays", () => {
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });

  it("tells arrays of different lengths apart", () => {
    expect(jsonEqual([1, 2], [1, 2, 3])).toBe(false);
  });

  it("tells an array from an object with index keys", () => {
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual({ 0: 1 }, [1])).toBe(false);
  });

  it("tells a missing key from a key with a value", () => {
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });

  it("treats a key holding undefined as missing", () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });

  it("tells null from an empty object", () => {
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual({}, null)).toBe(false);
  });

  it("compares primitives strictly", () => {
    expect(jsonEqual(1, "1")).toBe(false);
    expect(jsonEqual("x", "x")).toBe(true);
    expect(jsonEqual(false, 0)).toBe(false);
  });

  it("finds a difference deep inside nested arrays", () => {
    const a = { plugins: { p: { instances: [{ name: "chat", limit: 1 }] } } };
    const b = { plugins: { p: { instances: [{ name: "chat", limit: 2 }] } } };

    expect(jsonEqual(a, b)).toBe(false);
  });
});

describe("mergeSecrets", () => {
  const body = {
    plugins: {
      "ai-proxy-multi": {
        instances: [
          { name: "chat", auth: { header: {} } },
          { name: "chat-2", auth: {} },
        ],
      },
    },
  };

  it("writes each secret at its dotted path, through array indexes", () => {
    const merged = mergeSecrets(body, {
      "plugins.ai-proxy-multi.instances.0.auth.header.Authorization": "Bearer abc",
      "plugins.ai-proxy-multi.instances.1.auth.header.Authorization": "Bearer def",
    });

    expect(merged).toEqual({
      plugins: {
        "ai-proxy-multi": {
          instances: [
            { name: "chat", auth: { header: { Authorization: "Bearer abc" } } },
            { name: "chat-2", auth: { header: { Authorization: "Bearer def" } } },
          ],
        },
      },
    });
    expect(
      Array.isArray(
        (merged.plugins as Record<string, { instances: unknown }>)["ai-proxy-multi"].instances,
      ),
    ).toBe(true);
  });

  it("creates missing objects on the way, also in place of null", () => {
    expect(
      mergeSecrets(
        { plugins: { "ai-rate-limiting": null } },
        {
          "plugins.ai-rate-limiting.redis_password": "pw",
          "plugins.key-auth.key": "Bearer k",
        },
      ),
    ).toEqual({
      plugins: { "ai-rate-limiting": { redis_password: "pw" }, "key-auth": { key: "Bearer k" } },
    });
  });

  it("replaces a value already at the path", () => {
    expect(
      mergeSecrets({ plugins: { "key-auth": { key: "old" } } }, { "plugins.key-auth.key": "new" }),
    ).toEqual({ plugins: { "key-auth": { key: "new" } } });
  });

  it("leaves the body it was given unchanged", () => {
    const before = cloneJson(body);

    mergeSecrets(body, {
      "plugins.ai-proxy-multi.instances.0.auth.header.Authorization": "Bearer abc",
    });

    expect(body).toEqual(before);
  });

  it("returns an equal copy when there are no secrets", () => {
    const merged = mergeSecrets(body, {});

    expect(merged).toEqual(body);
    expect(merged).not.toBe(body);
  });
});

describe("splitSecrets", () => {
  it("moves the values at the secret paths out of the body", () => {
    const stored = {
      username: "alpha-alice",
      plugins: { "ai-rate-limiting": { policy: "redis", redis_host: "r1", redis_password: "pw" } },
    };

    expect(splitSecrets(stored, ["plugins.ai-rate-limiting.redis_password"])).toEqual({
      body: {
        username: "alpha-alice",
        plugins: { "ai-rate-limiting": { policy: "redis", redis_host: "r1" } },
      },
      secrets: { "plugins.ai-rate-limiting.redis_password": "pw" },
    });
  });

  it("drops the fields APISIX sets on stored objects", () => {
    const stored = { id: "ai-chat", create_time: 1, update_time: 2, uri: "/v1/chat/completions" };

    expect(serverFields).toEqual(["create_time", "update_time", "id"]);
    expect(splitSecrets(stored, [])).toEqual({
      body: { uri: "/v1/chat/completions" },
      secrets: {},
    });
  });

  it("skips secret paths that the stored object lacks", () => {
    const stored = { plugins: { "key-auth": {} } };

    expect(
      splitSecrets(stored, ["plugins.key-auth.key", "plugins.absent.deep.key", "labels.x"]),
    ).toEqual({
      body: { plugins: { "key-auth": {} } },
      secrets: {},
    });
  });

  it("walks through array indexes", () => {
    const stored = { instances: [{ auth: { header: { Authorization: "Bearer abc" } } }] };

    expect(splitSecrets(stored, ["instances.0.auth.header.Authorization"])).toEqual({
      body: { instances: [{ auth: { header: {} } }] },
      secrets: { "instances.0.auth.header.Authorization": "Bearer abc" },
    });
  });

  it("removes a secret path that holds no string without reporting it", () => {
    expect(
      splitSecrets({ plugins: { "key-auth": { key: 42 } } }, ["plugins.key-auth.key"]),
    ).toEqual({
      body: { plugins: { "key-auth": {} } },
      secrets: {},
    });
  });

  it("leaves the stored object unchanged", () => {
    const stored = { id: "x", plugins: { "key-auth": { key: "Bearer k" } } };

    splitSecrets(stored, ["plugins.key-auth.key"]);

    expect(stored).toEqual({ id: "x", plugins: { "key-auth": { key: "Bearer k" } } });
  });

  it("undoes mergeSecrets for a body whose secret holders exist", () => {
    const body = {
      plugins: { "ai-proxy-multi": { instances: [{ auth: { header: {} } }] }, "key-auth": {} },
    };
    const secrets = {
      "plugins.ai-proxy-multi.instances.0.auth.header.Authorization": "Bearer abc",
      "plugins.key-auth.key": "Bearer k",
    };
    const stored = { ...mergeSecrets(body, secrets), id: "ai-chat", update_time: 5 };

    expect(splitSecrets(stored, Object.keys(secrets))).toEqual({ body, secrets });
  });
});
