import type { CheckFailure } from "@pulumi/pulumi/provider";
import type { Client } from "ssh2";
import { CommandKind, ExitStatus, RunRequest } from "./command";
import { dial, toSshTarget, validateConnection } from "./ssh";
import { containsUnknown, Props, reveal, shellQuote } from "./inputs";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Upstream sends `environment` with SSH setenv, which sshd drops unless its AcceptEnv allows each
// name. We send it through the command's stdin instead, so it works with any sshd and stays out of
// the remote process list: the remote shell first reads one line with the byte count of an
// `export` block, reads exactly that many bytes with dd (bs=1 so that nothing of the user's stdin
// is consumed), evaluates them, and then runs the command with the rest of stdin. The preamble is
// POSIX shell, so the login shell of the remote user must be sh-compatible (sh, bash, dash, zsh,
// ksh), as upstream's own advice of prefixing `VAR=value` assumes.
const PREAMBLE =
  'IFS= read -r __pulumi_env_bytes && eval "$(dd bs=1 count="$__pulumi_env_bytes" 2>/dev/null)" ' +
  "&& unset __pulumi_env_bytes || exit 125";

/** Returns the text sent ahead of the user's stdin: a byte count line, then `export` lines. */
export function buildEnvironmentHeader(environment: Record<string, string>): string {
  const block = Object.entries(environment)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join("");
  return `${Buffer.byteLength(block)}\n${block}`;
}

/** Returns the exec request's command line: the preamble, then the user's command unchanged. */
export function buildRemoteScript(command: string): string {
  return `${PREAMBLE}\n${command}`;
}

function execute(client: Client, request: RunRequest): Promise<ExitStatus> {
  return new Promise((resolve, reject) => {
    client.once("error", reject);
    client.exec(buildRemoteScript(request.command), (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      // Stays without code and signal when the connection drops before an exit status arrives.
      let status: ExitStatus = { code: null };
      channel.on("data", request.onStdout);
      channel.stderr.on("data", request.onStderr);
      channel.on("exit", (code: number | null, signal?: string) => {
        status = { code, signal };
      });
      channel.on("close", () => resolve(status));
      channel.write(buildEnvironmentHeader(request.environment));
      channel.end(request.stdin);
    });
  });
}

/** Runs one command over SSH on the host in `connection`, dialing a fresh connection. */
export async function runRemote(request: RunRequest): Promise<ExitStatus> {
  const client = await dial(toSshTarget(request.inputs.connection as Record<string, unknown>));
  try {
    return await execute(client, request);
  } finally {
    client.end();
  }
}

function validateRemote(news: Props): CheckFailure[] {
  const failures = containsUnknown(news.connection)
    ? []
    : validateConnection(reveal(news.connection));
  const environment = containsUnknown(news.environment) ? undefined : reveal(news.environment);
  if (environment && typeof environment === "object") {
    for (const name of Object.keys(environment)) {
      if (!ENV_NAME.test(name)) {
        failures.push({
          property: "environment",
          reason: `environment name "${name}" is not a shell variable name; use letters, digits and _`,
        });
      }
    }
  }
  return failures;
}

/** `command:remote:Command`: runs create, update and delete commands on a host over SSH. */
export const remoteCommand: CommandKind = {
  token: "command:remote:Command",
  inputKeys: [
    "connection",
    "create",
    "update",
    "delete",
    "triggers",
    "environment",
    "stdin",
    "logging",
    "addPreviousOutputInEnv",
  ],
  validate: validateRemote,
  run: runRemote,
};
