// The lifecycle local and remote commands share, after upstream's commandController: create runs
// `create`; any other input change runs `update` (else `create`) with the last output in
// PULUMI_COMMAND_STDOUT/STDERR; delete runs the `delete` stored in state. The engine never calls
// create or update during preview for this provider (it does not announce preview support), so
// nothing runs then.
import { randomBytes } from "node:crypto";
import type { CheckFailure } from "@pulumi/pulumi/provider";
import {
  asSecret,
  containsSecret,
  nameOf,
  Props,
  reveal,
  tailOf,
  trimTrailingNewline,
} from "./inputs";

/** Sends one line of command output to the engine, attributed to the resource `urn`. */
export type LogLine = (urn: string, line: string) => void;

/** Receives chunks of a command's output and forwards each complete line. */
export interface LineSplitter {
  write(chunk: Buffer | string): void;
  /** Forwards a last line that had no newline. */
  flush(): void;
}

/** Splits a byte stream into lines and hands each one to `onLine`. */
export function splitLines(onLine: (line: string) => void): LineSplitter {
  let pending = "";
  return {
    write(chunk) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    },
    flush() {
      if (pending !== "") onLine(pending);
      pending = "";
    },
  };
}

/** One command to run, with everything revealed; built by the lifecycle for a runner. */
export interface RunRequest {
  /** The resource's URN, for log lines. */
  urn: string;
  /** The command text. */
  command: string;
  /** All inputs of the resource with secrets revealed (runners read their own extras). */
  inputs: Props;
  /** The user's `environment` plus the previous run's output when that is enabled. */
  environment: Record<string, string>;
  /** Text for the command's standard input; empty means none. */
  stdin: string;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

/** How a command ended: exit code (null when killed) and signal. */
export interface ExitStatus {
  code: number | null;
  signal?: string;
}

/** A resource type of this provider: its token, its inputs and how it runs a command. */
export interface CommandKind {
  readonly token: string;
  /** Input properties; outputs are these plus stdout and stderr. */
  readonly inputKeys: readonly string[];
  /** Type-specific input problems, on top of the shared checks. */
  validate(news: Props): CheckFailure[];
  /** Runs one command; throws only when it could not be started at all. */
  run(request: RunRequest): Promise<ExitStatus>;
}

/** Which command of the resource runs; `run` is the `command:local:run` function. */
type Step = "create" | "update" | "delete" | "run";

/** A finished command's output, and whether it must be stored as a secret. */
export interface RunOutput {
  stdout: string;
  stderr: string;
  secret: boolean;
}

function buildEnvironment(inputs: Props, previous: Props): Record<string, string> {
  const environment = { ...((inputs.environment as Record<string, string> | undefined) ?? {}) };
  if (inputs.addPreviousOutputInEnv !== false) {
    const stdout = reveal(previous.stdout);
    const stderr = reveal(previous.stderr);
    if (typeof stdout === "string" && stdout !== "") environment.PULUMI_COMMAND_STDOUT = stdout;
    if (typeof stderr === "string" && stderr !== "") environment.PULUMI_COMMAND_STDERR = stderr;
  }
  return environment;
}

function subjectOf(kind: CommandKind, urn: string, step: Step): string {
  return step === "run" ? "command:local:run" : `${kind.token} "${nameOf(urn)}"`;
}

function describeExit(
  kind: CommandKind,
  urn: string,
  step: Step,
  exit: ExitStatus,
  stderr: string,
) {
  const how =
    exit.code !== null
      ? `exited with code ${exit.code}`
      : exit.signal
        ? `was killed by signal ${exit.signal}`
        : "ended without an exit status (the connection was lost)";
  const tail = tailOf(stderr);
  const output = tail === "" ? "it wrote nothing to stderr" : `stderr:\n${tail}`;
  const next =
    step === "delete"
      ? "The resource stays in the state until its delete command succeeds; fix it and run pulumi destroy or up again."
      : "Fix the command or what it depends on, then run pulumi up again.";
  return `${subjectOf(kind, urn, step)}: the ${step} command ${how}; ${output}\n${next}`;
}

/**
 * Runs the command held in `raw[commandKey]` and returns its trimmed output. `previous` holds the
 * last run's stdout and stderr. Throws with stderr's tail when the command fails.
 */
export async function runStep(
  kind: CommandKind,
  log: LogLine,
  urn: string,
  step: Step,
  commandKey: string,
  raw: Props,
  previous: Props,
): Promise<RunOutput> {
  const inputs = reveal(raw) as Props;
  // Output can echo whatever went in, so it is secret when the command, stdin or environment was.
  const secret = ["stdin", "environment", commandKey].some((key) => containsSecret(raw[key]));
  const logging = secret ? "none" : ((inputs.logging as string | undefined) ?? "stdoutAndStderr");
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const lines = splitLines((line) => log(urn, line));
  const request: RunRequest = {
    urn,
    command: inputs[commandKey] as string,
    inputs,
    environment: buildEnvironment(inputs, previous),
    stdin: (inputs.stdin as string | undefined) ?? "",
    onStdout: (chunk) => {
      stdout.push(chunk);
      if (logging === "stdout" || logging === "stdoutAndStderr") lines.write(chunk);
    },
    onStderr: (chunk) => {
      stderr.push(chunk);
      if (logging === "stderr" || logging === "stdoutAndStderr") lines.write(chunk);
    },
  };
  const exit = await kind.run(request).catch((error: Error) => {
    throw new Error(
      `${subjectOf(kind, urn, step)}: the ${step} command did not run: ${error.message}`,
      {
        cause: error,
      },
    );
  });
  lines.flush();
  const output = {
    stdout: Buffer.concat(stdout).toString(),
    stderr: Buffer.concat(stderr).toString(),
  };
  if (exit.code !== 0) throw new Error(describeExit(kind, urn, step, exit, output.stderr));
  return {
    stdout: trimTrailingNewline(output.stdout),
    stderr: trimTrailingNewline(output.stderr),
    secret,
  };
}

function withOutput(kind: CommandKind, inputs: Props, output: RunOutput): Props {
  const wrap = (text: string) => (output.secret ? asSecret(text) : text);
  const outs: Props = {};
  for (const key of kind.inputKeys) if (inputs[key] !== undefined) outs[key] = inputs[key];
  return { ...outs, stdout: wrap(output.stdout), stderr: wrap(output.stderr) };
}

/** Runs `create` (if set) and returns a fresh ID, like upstream the name plus 8 hex digits. */
export async function createCommand(kind: CommandKind, log: LogLine, urn: string, news: Props) {
  const id = `${nameOf(urn)}${randomBytes(4).toString("hex")}`;
  const none: RunOutput = { stdout: "", stderr: "", secret: false };
  const output =
    news.create == null ? none : await runStep(kind, log, urn, "create", "create", news, {});
  return { id, outs: withOutput(kind, news, output) };
}

/** Runs `update`, or `create` when no update is set, with the previous output in the env. */
export async function updateCommand(
  kind: CommandKind,
  log: LogLine,
  urn: string,
  olds: Props,
  news: Props,
) {
  if (news.update == null && news.create == null) {
    const kept = {
      stdout: String(reveal(olds.stdout) ?? ""),
      stderr: String(reveal(olds.stderr) ?? ""),
    };
    return { outs: withOutput(kind, news, { ...kept, secret: containsSecret(olds.stdout) }) };
  }
  const commandKey = news.update == null ? "create" : "update";
  const output = await runStep(kind, log, urn, "update", commandKey, news, olds);
  return { outs: withOutput(kind, news, output) };
}

/** Runs the `delete` command stored in state, with the environment stored with it. */
export async function deleteCommand(kind: CommandKind, log: LogLine, urn: string, props: Props) {
  if (props.delete == null) return;
  await runStep(kind, log, urn, "delete", "delete", props, props);
}
