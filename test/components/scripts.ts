import { spawnSync } from "node:child_process";
import { expect } from "vitest";
import { serviceLibrary } from "../../components/shell";

/** The lines a provisioning script adds after the shared library. */
export function bodyLines(script: string): string[] {
  expect(script.startsWith(serviceLibrary)).toBe(true);
  return script.slice(serviceLibrary.length).split("\n");
}

/** Parses a script with `sh -n`; returns sh's complaint, or "" when the syntax is fine. */
export function syntaxErrors(script: string): string {
  const result = spawnSync("/bin/sh", ["-n", "-c", script], { encoding: "utf8" });
  return result.status === 0 ? "" : result.stderr;
}
