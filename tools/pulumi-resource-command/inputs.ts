import type { CheckFailure, CheckResult, DiffResult, ReadResult } from "@pulumi/pulumi/provider";
import type { CommandKind } from "./command";

// Reading property bags as the engine sends them to a provider that accepts secrets (the Node
// provider server says so in Configure): plain JSON in which a secret is an object tagged with a
// signature key, an output value is another tagged object, and an unknown value (in preview) is a
// sentinel string; the signatures are fixed by the Pulumi RPC protocol
// (sdk/go/common/resource/properties.go upstream). Also check, diff and read, which only look at
// inputs, and small text helpers.

const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_SIGNATURE = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Property bag as the engine sends it: secrets and unknowns still wrapped. */
export type Props = Record<string, unknown>;

type Tagged = { [SIGNATURE_KEY]: string; value?: unknown; secret?: boolean };

function signatureOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const signature = (value as Record<string, unknown>)[SIGNATURE_KEY];
  return typeof signature === "string" ? signature : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Wraps `value` so that the engine records it as a secret. */
export function asSecret(value: unknown): unknown {
  return { [SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

/** True when `value`, or anything nested in it, is marked secret. */
export function containsSecret(value: unknown): boolean {
  const signature = signatureOf(value);
  if (signature === SECRET_SIGNATURE) return true;
  if (signature === OUTPUT_SIGNATURE) {
    const tagged = value as Tagged;
    return tagged.secret === true || containsSecret(tagged.value);
  }
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isPlainObject(value)) return Object.values(value).some(containsSecret);
  return false;
}

/** True when `value`, or anything nested in it, is not known yet (only happens in preview). */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  const signature = signatureOf(value);
  if (signature === OUTPUT_SIGNATURE) {
    const tagged = value as Tagged;
    return !("value" in tagged) || containsUnknown(tagged.value);
  }
  if (signature === SECRET_SIGNATURE) return containsUnknown((value as Tagged).value);
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isPlainObject(value)) return Object.values(value).some(containsUnknown);
  return false;
}

/** Returns `value` with every secret and output wrapper removed, for running commands. */
export function reveal(value: unknown): unknown {
  const signature = signatureOf(value);
  if (signature === SECRET_SIGNATURE || signature === OUTPUT_SIGNATURE) {
    return reveal((value as Tagged).value);
  }
  if (Array.isArray(value)) return value.map(reveal);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reveal(item)]));
  }
  return value;
}

/** Compares two property values after removing wrappers; null and missing count as equal. */
export function sameValue(left: unknown, right: unknown): boolean {
  return JSON.stringify(normalize(reveal(left))) === JSON.stringify(normalize(reveal(right)));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (isPlainObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== null && value[key] !== undefined)
      .sort();
    return Object.fromEntries(keys.map((key) => [key, normalize(value[key])]));
  }
  return value ?? null;
}

/** Quotes `text` for a POSIX shell so that it stays one word with no expansion. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Returns the last `maxLines` lines of `text`, cut to at most `maxChars` characters. */
export function tailOf(text: string, maxLines = 20, maxChars = 4000): string {
  const lines = text.trimEnd().split("\n");
  const tail = lines.slice(-maxLines).join("\n");
  return tail.length > maxChars ? `…${tail.slice(-maxChars)}` : tail;
}

/** Removes one trailing newline, as upstream does for stdout and stderr. */
export function trimTrailingNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

const LOGGING_MODES = ["stdout", "stderr", "stdoutAndStderr", "none"];

/** Returns the resource name at the end of a URN. */
export function nameOf(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

function failureIf(ok: boolean, property: string, reason: string): CheckFailure[] {
  return ok ? [] : [{ property, reason }];
}

/** Checks the inputs every command type shares; unknown values are accepted as they are. */
export function checkCommand(kind: CommandKind, news: Props): CheckResult {
  const value = (key: string): unknown =>
    containsUnknown(news[key]) ? undefined : reveal(news[key]);
  const optional = (key: string, test: (v: unknown) => boolean) =>
    value(key) == null || test(value(key));
  const isString = (v: unknown) => typeof v === "string";
  const isStringMap = (v: unknown) =>
    typeof v === "object" && !Array.isArray(v) && Object.values(v as object).every(isString);
  const failures = [
    ...["create", "update", "delete", "stdin"].flatMap((key) =>
      failureIf(optional(key, isString), key, `${key} must be a string`),
    ),
    ...failureIf(
      optional("environment", isStringMap),
      "environment",
      "environment must map names to strings",
    ),
    ...failureIf(optional("triggers", Array.isArray), "triggers", "triggers must be a list"),
    ...failureIf(
      optional("logging", (v) => LOGGING_MODES.includes(v as string)),
      "logging",
      `logging must be one of ${LOGGING_MODES.join(", ")}`,
    ),
    ...failureIf(
      optional("addPreviousOutputInEnv", (v) => typeof v === "boolean"),
      "addPreviousOutputInEnv",
      "addPreviousOutputInEnv must be true or false",
    ),
    ...kind.validate(news),
  ];
  return { inputs: news, failures };
}

/** Reports changed inputs; a change of `triggers` replaces the resource, any other updates it. */
export function diffCommand(kind: CommandKind, olds: Props, news: Props): DiffResult {
  const changed = kind.inputKeys.filter(
    (key) => containsUnknown(news[key]) || !sameValue(olds[key], news[key]),
  );
  return {
    changes: changed.length > 0,
    replaces: changed.includes("triggers") ? ["triggers"] : [],
    deleteBeforeReplace: false,
  };
}

/** Returns the state unchanged: a command has no live object to read back. */
export function readCommand(kind: CommandKind, id: string, props: Props): ReadResult {
  const inputs = Object.fromEntries(
    kind.inputKeys.filter((key) => key in props).map((key) => [key, props[key]]),
  );
  return { id, props, inputs };
}
