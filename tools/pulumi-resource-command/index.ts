// Our own build of the `pulumi-resource-command` plugin for @pulumi/command 1.2.1. Upstream's is
// a Go program; this workplace's Go proxy does not serve its module, so this reimplements the
// resource types the npm SDK registers on the Node provider framework.
import * as grpc from "@grpc/grpc-js";
import { main, Provider } from "@pulumi/pulumi/provider";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";
import { CommandKind, createCommand, deleteCommand, LogLine, updateCommand } from "./command";
import { checkCommand, diffCommand, readCommand } from "./inputs";
import { cancelLocalCommands, invokeLocalRun, localCommand } from "./local";
import { remoteCommand } from "./remote";

/** The plugin version that @pulumi/command 1.2.1 asks the engine for. */
export const PROVIDER_VERSION = "1.2.1";

const KINDS: readonly CommandKind[] = [localCommand, remoteCommand];

/** Returns the resource type named in a URN such as `urn:pulumi:dev::proj::command:local:Command::x`. */
export function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? qualified;
}

function kindOf(urn: string): CommandKind {
  const type = typeOfUrn(urn);
  const kind = KINDS.find((candidate) => candidate.token === type);
  if (!kind) {
    const known = KINDS.map((candidate) => candidate.token).join(", ");
    throw new Error(
      `pulumi-resource-command ${PROVIDER_VERSION} (local build) does not implement ${type}; it supports ${known}.`,
    );
  }
  return kind;
}

/**
 * Returns the engine address from the plugin's arguments: the engine passes it as the first
 * argument after optional `--logtostderr`, `-v=N` and `--tracing <endpoint>` flags.
 */
export function engineAddressFromArgs(args: readonly string[]): string | undefined {
  const positional: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--tracing") {
      index++;
    } else if (arg !== "--logtostderr" && !arg.startsWith("-v=")) {
      positional.push(arg);
    }
  }
  return positional[0];
}

/**
 * Creates a logger that shows command output as ephemeral info lines on the resource, in the
 * order written, the way upstream streams output while a command runs. Without an engine
 * address (the plugin started by hand) lines are dropped.
 */
export function createEngineLog(address: string | undefined): LogLine {
  if (!address) return () => undefined;
  const engine = new EngineClient(address, grpc.credentials.createInsecure());
  let last: Promise<void> = Promise.resolve();
  return (urn, line) => {
    const request = new LogRequest()
      .setSeverity(LogSeverity.INFO)
      .setMessage(line)
      .setUrn(urn)
      .setEphemeral(true);
    // A lost log line must not fail the command, so delivery errors are ignored.
    last = last.then(() => new Promise<void>((resolve) => engine.log(request, () => resolve())));
  };
}

/** Builds the provider object served to the engine; `log` receives command output lines. */
export function createCommandProvider(log: LogLine): Provider {
  return {
    version: PROVIDER_VERSION,
    check: async (urn, _olds, news) => checkCommand(kindOf(urn), news),
    diff: async (_id, urn, olds, news) => diffCommand(kindOf(urn), olds, news),
    create: async (urn, inputs) => createCommand(kindOf(urn), log, urn, inputs),
    read: async (id, urn, props) => readCommand(kindOf(urn), id, props ?? {}),
    update: async (_id, urn, olds, news) => updateCommand(kindOf(urn), log, urn, olds, news),
    delete: async (_id, urn, props) => deleteCommand(kindOf(urn), log, urn, props),
    invoke: async (token, args) => {
      if (token !== "command:local:run") {
        throw new Error(
          `pulumi-resource-command ${PROVIDER_VERSION} (local build) has no function ${token}.`,
        );
      }
      return invokeLocalRun(log, args);
    },
    cancel: async () => cancelLocalCommands(),
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  main(createCommandProvider(createEngineLog(engineAddressFromArgs(args))), args).catch((error) => {
    console.error(
      `pulumi-resource-command failed to start: ${error instanceof Error ? error.stack : error}`,
    );
    process.exit(1);
  });
}
