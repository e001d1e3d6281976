import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { ConfigError, formatPath } from "./errors";

const tokenLimitSchema = z
  .number({ invalid_type_error: "must be a whole number of tokens" })
  .int("must be a whole number of tokens")
  .positive("must be at least 1 token");

const userNameSchema = z.string().trim().min(1, "must not be empty");

/** One participant: a bare name or an object with optional contact and limit override. */
export const userSchema = z.union([
  userNameSchema.transform((name) => ({ name })),
  z
    .object({
      name: userNameSchema,
      email: z.string().email("must be an email address").optional(),
      rateLimitTokens: tokenLimitSchema.optional(),
    })
    .strict(),
]);

/** One team: its members and an optional per-user limit that overrides the stack default. */
export const groupSchema = z
  .object({
    title: z.string().optional(),
    rateLimitTokens: tokenLimitSchema.optional(),
    users: z.array(userSchema).min(1, "must list at least one user"),
  })
  .strict();

/** The whole roster file. */
export const rosterSchema = z
  .object({
    event_id: z.string().optional(),
    title: z.string().optional(),
    groups: z
      .record(z.string().trim().min(1, "group names must not be empty"), groupSchema)
      .refine((groups) => Object.keys(groups).length > 0, "must define at least one group"),
  })
  .strict();

/** A parsed groups.yaml. */
export type Roster = z.infer<typeof rosterSchema>;
/** A parsed group of groups.yaml. */
export type Group = z.infer<typeof groupSchema>;
/** A parsed user entry, always in object form. */
export type User = z.infer<typeof userSchema>;

const fixes: Record<string, string> = {
  unrecognized_keys: "remove it or check its spelling",
};

/** Turns the first zod issue into one sentence that names the file, the field and the fix. */
function describeIssue(file: string, issue: z.ZodIssue): string {
  const where = issue.path.length > 0 ? formatPath(issue.path) : "(top level)";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => `"${key}"`).join(", ");
    return `${file}: ${where} has unknown field ${keys}; ${fixes.unrecognized_keys}.`;
  }
  if (issue.code === "invalid_union") {
    return `${file}: ${where} must be a user name or an object with name, email and rateLimitTokens; fix that entry.`;
  }
  if (issue.code === "invalid_type" && issue.received === "undefined") {
    return `${file}: ${where} is missing; add it.`;
  }
  const fix =
    issue.code === "too_small" && issue.type === "array"
      ? "add the missing entries"
      : (fixes[issue.code] ?? "correct the value");
  return `${file}: ${where} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}; ${fix}.`;
}

/** Parses and validates roster text; `file` is only used in messages. */
export function parseRoster(text: string, file: string): Roster {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(
      `${file}${line ? `:${line}` : ""}: not valid YAML (${first.code}); fix the syntax there.`,
      { cause: first },
    );
  }
  const result = rosterSchema.safeParse(document.toJS() ?? {});
  if (!result.success) {
    throw new ConfigError(describeIssue(file, result.error.issues[0]));
  }
  return result.data;
}

/** Reads and validates the roster file at `path`. */
export function loadRoster(path: string): Roster {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `${path}: cannot read the groups file (${(error as NodeJS.ErrnoException).code}); create it or set ai-gateway:groupsFile to its path.`,
      { cause: error },
    );
  }
  return parseRoster(text, path);
}
