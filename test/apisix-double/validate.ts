import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The JSON schemas a running APISIX 3.18.0 reported, kept in the shared folder. */
export const schemaDir = resolve(__dirname, "../../../shared/apisix-schemas");

/** Plugins whose consumer-side schema differs from the route-side one. */
const consumerSchemas: Record<string, string> = { "key-auth": "plugin-key-auth.consumer.json" };
/** Plugins of type `auth`, the only ones a credential may hold. */
export const authPlugins = ["key-auth", "basic-auth", "jwt-auth", "hmac-auth", "ldap-auth"];

const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: false });
const cache = new Map<string, { defaults: ValidateFunction; full: ValidateFunction }>();

function load(file: string) {
  let entry = cache.get(file);
  if (!entry) {
    const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8"));
    // APISIX fills top-level defaults before judging if/then rules; do the same on a copy.
    const defaultsOnly = { type: "object", properties: {} as Record<string, unknown> };
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      const value = (property as { default?: unknown }).default;
      if (value !== undefined) defaultsOnly.properties[key] = { default: value };
    }
    const withDefaults = new Ajv({ strict: false, useDefaults: true }).compile(defaultsOnly);
    entry = { defaults: withDefaults, full: ajv.compile(schema) };
    cache.set(file, entry);
  }
  return entry;
}

/** Whether a schema file exists for the plugin. */
export function knowsPlugin(name: string): boolean {
  try {
    load(`plugin-${name}.json`);
    return true;
  } catch {
    return false;
  }
}

/** Renders an ajv error the way APISIX's Lua jsonschema library words it. */
function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const leaf = (() => {
    switch (error.keyword) {
      case "required":
        return `property "${params.missingProperty}" is required`;
      case "enum":
        return "matches none of the enum values";
      case "oneOf":
        return "value should match only one schema, but matches none";
      case "anyOf":
        return "object matches none of the required";
      case "pattern":
        return `failed to match pattern "${String(params.pattern).replace(/\\/g, "\\\\")}" with "${error.data}"`;
      case "maxProperties":
        return `expect object to have at most ${params.limit} properties`;
      case "additionalProperties":
        return `additional properties forbidden, found ${params.additionalProperty}`;
      case "type":
        return `wrong type: expected ${params.type}, got ${typeof error.data}`;
      default:
        return `${error.message}`;
    }
  })();
  const segments = error.instancePath.split("/").slice(1);
  let prefix = "";
  for (const segment of segments) {
    prefix += /^\d+$/.test(segment)
      ? `failed to validate item ${Number(segment) + 1}: `
      : `property "${segment}" validation failed: `;
  }
  const allOf = /^#\/allOf\/(\d+)\//.exec(error.schemaPath);
  if (allOf && segments.length === 0) prefix = `allOf ${Number(allOf[1]) + 1} failed: `;
  return prefix + leaf;
}

/**
 * Picks the error APISIX would report: branch errors inside a failed oneOf/anyOf give way to
 * that combinator's own error; property errors come first, then allOf rules, then the rest.
 */
function firstReported(errors: ErrorObject[]): ErrorObject {
  const combinators = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf");
  const outer = errors.filter(
    (e) => !combinators.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`)),
  );
  const rank = (e: ErrorObject) =>
    e.instancePath !== "" ? 0 : e.schemaPath.startsWith("#/allOf") ? 1 : 2;
  return [...outer].sort((a, b) => rank(a) - rank(b))[0];
}

/** Validates `value` against a schema file; returns APISIX's wording of the problem, or null. */
export function check(file: string, value: unknown): string | null {
  const { defaults, full } = load(file);
  const copy = JSON.parse(JSON.stringify(value));
  defaults(copy);
  if (full(copy)) return null;
  return describe(firstReported(full.errors ?? []));
}

/**
 * Checks each plugin of an object; `side` picks consumer-side schemas. Returns the error text
 * without APISIX's outer prefix, or null.
 */
export function checkPlugins(
  plugins: Record<string, unknown>,
  side: "route" | "consumer",
): string | null {
  for (const [name, conf] of Object.entries(plugins)) {
    const file = (side === "consumer" && consumerSchemas[name]) || `plugin-${name}.json`;
    if (!knowsPlugin(name)) return `unknown plugin [${name}]`;
    const problem = check(file, conf);
    if (problem) return `failed to check the configuration of plugin ${name} err: ${problem}`;
  }
  return null;
}
