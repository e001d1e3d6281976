/**
 * A problem in the organiser's input (groups.yaml or stack config). The message names the file,
 * the field and the fix, so it can be shown as is.
 */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Formats a path such as ["groups", "alpha", "users", 2] as `groups.alpha.users[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      return index === 0 ? String(segment) : `.${String(segment)}`;
    })
    .join("");
}
