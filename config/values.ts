import { z } from "zod";

/** `true`/`false`, as a boolean or as the strings Pulumi config stores. */
export const boolean = z.preprocess(
  (value) => (value === "true" ? true : value === "false" ? false : value),
  z.boolean({ message: "must be true or false" }),
);
/** A non-empty string. */
export const text = z.string().min(1, "must not be empty");
/** A whole number of at least 1; strings are converted. */
export const positiveInt = z.coerce
  .number({ message: "must be a whole number" })
  .int("must be a whole number")
  .positive("must be at least 1");
/** A TCP port number. */
export const port = positiveInt.max(65535, "must be a port number (1-65535)");
/** An http(s) URL without a trailing slash. */
export const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/, "must be an http:// or https:// URL")
  .transform((url) => url.replace(/\/+$/, ""));
