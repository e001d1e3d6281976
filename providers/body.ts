/**
 * Helpers for Admin API bodies: secrets live apart from the body (so diffs can show the body)
 * under dotted paths such as `plugins.key-auth.key` or `plugins.ai-proxy-multi.instances.0.auth`.
 */

/** Fields APISIX adds to what it stores; they never count as drift. */
export const serverFields = ["create_time", "update_time", "id"];

/** Deep copy of JSON data. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

/** Equality of JSON data, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
    return [...keys].every((key) => jsonEqual(left[key], right[key]));
  }
  return false;
}

/** Returns a copy of `body` with each secret written at its path, creating objects on the way. */
export function mergeSecrets(
  body: Record<string, unknown>,
  secrets: Record<string, string>,
): Record<string, unknown> {
  const merged = cloneJson(body);
  for (const [path, value] of Object.entries(secrets)) {
    const segments = path.split(".");
    let node = merged as Record<string, unknown>;
    for (const segment of segments.slice(0, -1)) {
      if (node[segment] === undefined || node[segment] === null) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[segments[segments.length - 1]] = value;
  }
  return merged;
}

/**
 * Splits a stored object back into body and secrets: the values at `secretPaths` move to the
 * secrets map, and server-set fields are dropped.
 */
export function splitSecrets(
  stored: Record<string, unknown>,
  secretPaths: string[],
): { body: Record<string, unknown>; secrets: Record<string, string> } {
  const body = cloneJson(stored);
  for (const field of serverFields) delete body[field];
  const secrets: Record<string, string> = {};
  for (const path of secretPaths) {
    const segments = path.split(".");
    let node: unknown = body;
    for (const segment of segments.slice(0, -1)) {
      node =
        node && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
    }
    const last = segments[segments.length - 1];
    if (node && typeof node === "object" && last in node) {
      const holder = node as Record<string, unknown>;
      if (typeof holder[last] === "string") secrets[path] = holder[last] as string;
      delete holder[last];
    }
  }
  return { body, secrets };
}
