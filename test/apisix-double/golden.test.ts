import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApisixDouble } from "./server";

interface GoldenCase {
  case: string;
  request: { method: string; path: string; auth: "ok" | "none" | "wrong"; body?: unknown };
  response: { status: number; contentType: string; body: unknown };
}

const goldenFile = resolve(__dirname, "../../../shared/apisix-golden/admin-api.jsonl");
const cases: GoldenCase[] = readFileSync(goldenFile, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line));

/** Drops what differs on every real run: timestamps and etcd indexes. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([key]) => !["create_time", "update_time", "createdIndex", "modifiedIndex"].includes(key),
    );
    return Object.fromEntries(entries.map(([key, inner]) => [key, stable(inner)]));
  }
  return value;
}

describe("Admin API double against recorded APISIX 3.18 exchanges", () => {
  const double = new ApisixDouble("golden-admin-key");

  beforeAll(() => double.start());
  afterAll(() => double.stop());

  it.each(cases.map((c, index) => [index + 1, c.case, c] as const))(
    "answers exchange %i (%s) as APISIX did",
    async (_index, _name, golden) => {
      const { request, response } = golden;
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (request.auth === "ok") headers["X-API-KEY"] = double.adminKey;
      if (request.auth === "wrong") headers["X-API-KEY"] = "not-the-key";
      const body =
        request.body === undefined
          ? undefined
          : typeof request.body === "string"
            ? request.body
            : JSON.stringify(request.body);
      const answer = await fetch(`${double.url}${request.path}`, {
        method: request.method,
        headers,
        body,
      });
      const text = await answer.text();
      const parsed =
        response.body !== null && typeof response.body === "object" ? JSON.parse(text) : text;
      expect({ status: answer.status, body: stable(parsed) }).toEqual({
        status: response.status,
        body: stable(response.body),
      });
    },
  );
});
