import { ChildProcess, spawn } from "node:child_process";
import type { CheckFailure, InvokeResult } from "@pulumi/pulumi/provider";
import { CommandKind, ExitStatus, LogLine, RunRequest, runStep } from "./command";
import { asSecret, containsUnknown, Props, reveal } from "./inputs";

/** The interpreter upstream uses on every platform but Windows. */
const DEFAULT_INTERPRETER = ["/bin/sh", "-c"];

/** Processes started and not yet finished, so that a cancel can stop them. */
const running = new Set<ChildProcess>();

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function validateLocal(news: Props): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const value = (key: string) => (containsUnknown(news[key]) ? undefined : reveal(news[key]));
  const interpreter = value("interpreter");
  if (
    interpreter != null &&
    (!isStringList(interpreter) || (interpreter as string[]).length === 0)
  ) {
    failures.push({
      property: "interpreter",
      reason: 'interpreter must be a non-empty list of strings, such as ["/bin/bash", "-c"]',
    });
  }
  if (value("dir") != null && typeof value("dir") !== "string") {
    failures.push({ property: "dir", reason: "dir must be a string" });
  }
  for (const key of ["assetPaths", "archivePaths"]) {
    if (value(key) != null && !isStringList(value(key))) {
      failures.push({ property: key, reason: `${key} must be a list of glob strings` });
    }
  }
  return failures;
}

/**
 * Runs a command as `<interpreter...> <command>` in `dir` (default: the provider's working
 * directory, which the engine sets to the program's), with the provider's own environment plus
 * the request's. Resolves with the exit status; rejects only when the process cannot start.
 */
export function runLocal(request: RunRequest): Promise<ExitStatus> {
  const configured = request.inputs.interpreter as string[] | undefined;
  const [program, ...args] = configured?.length ? configured : DEFAULT_INTERPRETER;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args, request.command], {
      cwd: (request.inputs.dir as string | undefined) ?? process.cwd(),
      env: { ...process.env, ...request.environment },
      stdio: ["pipe", "pipe", "pipe"],
    });
    running.add(child);
    child.stdout.on("data", request.onStdout);
    child.stderr.on("data", request.onStderr);
    child.once("error", (error: NodeJS.ErrnoException) => {
      running.delete(child);
      // The interpreter path and dir may be secret, so the message names the inputs, not values.
      reject(
        new Error(
          `${error.code ?? error.message}; check that interpreter[0] exists and dir is a directory`,
        ),
      );
    });
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal: signal ?? undefined });
    });
    // A command that exits without reading its stdin closes the pipe; that is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(request.stdin);
  });
}

/** Stops every local command still running, as a cancelled deployment asks. */
export function cancelLocalCommands(): void {
  for (const child of running) child.kill("SIGTERM");
}

/** `command:local:Command`: runs create, update and delete commands on this machine. */
export const localCommand: CommandKind = {
  token: "command:local:Command",
  inputKeys: [
    "create",
    "update",
    "delete",
    "triggers",
    "environment",
    "dir",
    "stdin",
    "interpreter",
    "logging",
    "addPreviousOutputInEnv",
    "assetPaths",
    "archivePaths",
  ],
  validate: validateLocal,
  run: runLocal,
};

/**
 * `command:local:run`: runs `command` once, at every program run that calls it, and returns the
 * arguments plus stdout and stderr, as upstream's invoke does.
 */
export async function invokeLocalRun(log: LogLine, args: Props): Promise<InvokeResult> {
  if (typeof reveal(args.command) !== "string") {
    return { failures: [{ property: "command", reason: "command must be a string" }] };
  }
  const failures = validateLocal(args);
  if (failures.length > 0) return { failures };
  const output = await runStep(localCommand, log, "", "run", "command", args, {});
  const wrap = (text: string) => (output.secret ? asSecret(text) : text);
  return { outputs: { ...args, stdout: wrap(output.stdout), stderr: wrap(output.stderr) } };
}
