import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** The machine services are provisioned on: this one, or one reached over SSH. */
export interface HostTarget {
  /** Name used in messages: "local" or the SSH address. */
  readonly label: string;
  /** SSH connection; undefined means this machine. */
  readonly ssh?: {
    host: string;
    /** Default 22. */
    port: number;
    /** Default root. */
    user: string;
    /** Private key in OpenSSH or PEM form; a secret. */
    privateKey: pulumi.Input<string>;
    /** Expected host public key (`ssh-ed25519 AAAA…`); unchecked when unset. */
    hostKey?: string;
  };
}

/** The machine running Pulumi. */
export const localHost: HostTarget = { label: "local" };

/** One provisioning step: converge with `create`, undo with `delete`. */
export interface HostCommandArgs {
  /** Converging script; also run when any input changes. */
  create: pulumi.Input<string>;
  /** Script run on destroy. */
  delete: pulumi.Input<string>;
  /** Secret input for the script, read from its stdin. */
  stdin?: pulumi.Input<string>;
}

/**
 * Runs a provisioning step on the host: `local.Command` for this machine, `remote.Command` over
 * SSH otherwise. Scripts get secrets on stdin only, so none reaches a command line or a log.
 */
export function createHostCommand(
  host: HostTarget,
  name: string,
  args: HostCommandArgs,
  opts: pulumi.CustomResourceOptions,
): command.local.Command | command.remote.Command {
  const common = {
    create: args.create,
    update: args.create,
    delete: args.delete,
    stdin: args.stdin === undefined ? undefined : pulumi.secret(args.stdin),
    logging: "stdoutAndStderr" as const,
  };
  if (!host.ssh) {
    return new command.local.Command(name, { ...common, interpreter: ["/bin/sh", "-c"] }, opts);
  }
  const connection = {
    host: host.ssh.host,
    port: host.ssh.port,
    user: host.ssh.user,
    privateKey: pulumi.secret(host.ssh.privateKey),
    hostKey: host.ssh.hostKey,
    dialErrorLimit: 3,
  };
  return new command.remote.Command(name, { ...common, connection }, opts);
}
