import type { Duplex } from "node:stream";
import type { CheckFailure } from "@pulumi/pulumi/provider";
import { Client, ConnectConfig } from "ssh2";

/** Where and how to log in over SSH; `connection` and `connection.proxy` after defaults. */
export interface SshTarget {
  host: string;
  /** Default 22. */
  port: number;
  /** Default "root". */
  user: string;
  privateKey?: string;
  privateKeyPassword?: string;
  password?: string;
  /** Default: the SSH_AUTH_SOCK of the provider's environment, when set. */
  agentSocketPath?: string;
  /** Public key in authorized_keys form; when absent the host key is not checked (upstream). */
  hostKey?: string;
  /** Failed dials tolerated before giving up; -1 retries forever. Default 10. */
  dialErrorLimit: number;
  /** Seconds for one dial, including the handshake and login. Default 15. */
  perDialTimeout: number;
  /** A bastion to connect through. */
  proxy?: SshTarget;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Builds a target from a revealed `connection` value, applying upstream's defaults. */
export function toSshTarget(connection: Record<string, unknown>): SshTarget {
  const proxy = connection.proxy as Record<string, unknown> | undefined;
  return {
    host: String(connection.host),
    port: typeof connection.port === "number" ? connection.port : 22,
    user: optionalString(connection.user) ?? "root",
    privateKey: optionalString(connection.privateKey),
    privateKeyPassword: optionalString(connection.privateKeyPassword),
    password: optionalString(connection.password),
    agentSocketPath:
      optionalString(connection.agentSocketPath) ?? optionalString(process.env.SSH_AUTH_SOCK),
    hostKey: optionalString(connection.hostKey),
    dialErrorLimit: typeof connection.dialErrorLimit === "number" ? connection.dialErrorLimit : 10,
    perDialTimeout: typeof connection.perDialTimeout === "number" ? connection.perDialTimeout : 15,
    proxy: proxy && typeof proxy === "object" ? toSshTarget(proxy) : undefined,
  };
}

/** Returns problems with a revealed `connection` value, naming the property path. */
export function validateConnection(connection: unknown, path = "connection"): CheckFailure[] {
  if (connection === null || typeof connection !== "object" || Array.isArray(connection)) {
    return [
      { property: path, reason: `${path} is required and must be an object with at least host` },
    ];
  }
  const value = connection as Record<string, unknown>;
  const failures: CheckFailure[] = [];
  if (typeof value.host !== "string" || value.host === "") {
    failures.push({
      property: `${path}.host`,
      reason: `${path}.host must be a host name or address`,
    });
  }
  const port = value.port;
  if (
    port != null &&
    !(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536)
  ) {
    failures.push({
      property: `${path}.port`,
      reason: `${path}.port must be a whole number from 1 to 65535`,
    });
  }
  if (
    value.dialErrorLimit != null &&
    !(Number.isInteger(value.dialErrorLimit) && (value.dialErrorLimit as number) >= -1)
  ) {
    failures.push({
      property: `${path}.dialErrorLimit`,
      reason: `${path}.dialErrorLimit must be -1 (unlimited) or more`,
    });
  }
  if (
    value.perDialTimeout != null &&
    !(typeof value.perDialTimeout === "number" && value.perDialTimeout > 0)
  ) {
    failures.push({
      property: `${path}.perDialTimeout`,
      reason: `${path}.perDialTimeout must be a positive number of seconds`,
    });
  }
  return value.proxy == null
    ? failures
    : [...failures, ...validateConnection(value.proxy, `${path}.proxy`)];
}

function hostKeyVerifier(expected: string | undefined): ((key: Buffer) => boolean) | undefined {
  if (!expected) return undefined;
  // authorized_keys form: "<type> <base64 blob> [comment]"; ssh2 hands over the raw blob.
  const fields = expected.trim().split(/\s+/);
  const blob = Buffer.from(fields.length > 1 ? fields[1] : fields[0], "base64");
  return (key) => blob.equals(key);
}

function connectOnce(target: SshTarget, sock?: Duplex): Promise<Client> {
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    privateKey: target.privateKey,
    passphrase: target.privateKeyPassword,
    password: target.password,
    agent: target.agentSocketPath,
    tryKeyboard: target.password !== undefined,
    readyTimeout: target.perDialTimeout * 1000,
    hostVerifier: hostKeyVerifier(target.hostKey),
    sock,
  };
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) =>
      finish(prompts.map(() => target.password ?? "")),
    );
    client.once("ready", () => resolve(client));
    client.once("error", (error) => {
      client.end();
      reject(error);
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws at once for a key it cannot parse; its message never contains the key.
      reject(error);
    }
  });
}

async function connectThroughProxy(target: SshTarget): Promise<Client> {
  if (!target.proxy) return connectOnce(target);
  const bastion = await connectOnce(target.proxy);
  try {
    const stream = await new Promise<Duplex>((resolve, reject) =>
      bastion.forwardOut("127.0.0.1", 0, target.host, target.port, (error, channel) =>
        error ? reject(error) : resolve(channel),
      ),
    );
    const client = await connectOnce(target, stream);
    client.once("close", () => bastion.end());
    return client;
  } catch (error) {
    bastion.end();
    throw error;
  }
}

/**
 * Connects and logs in, retrying failed dials (refused, timed out, or login rejected, as
 * upstream does while a new host boots) with a delay growing from 0.1 s by 1.5x up to 5 s,
 * until more than `dialErrorLimit` dials have failed.
 */
export async function dial(target: SshTarget): Promise<Client> {
  let delay = FIRST_RETRY_MS;
  for (let failed = 1; ; failed++) {
    try {
      return await connectThroughProxy(target);
    } catch (error) {
      const message = (error as Error).message;
      if (/privateKey|Cannot parse/i.test(message)) {
        throw new Error(
          `connection.privateKey could not be used: ${message}; check the key and privateKeyPassword`,
        );
      }
      if (target.dialErrorLimit >= 0 && failed > target.dialErrorLimit) {
        const via = target.proxy ? ` through ${target.proxy.host}:${target.proxy.port}` : "";
        throw new Error(
          `could not connect to SSH server ${target.host}:${target.port}${via} as ${target.user} after ${failed} ` +
            `attempts: ${message}. Check connection.host and connection.port, that sshd is running there, ` +
            `and the credentials; raise connection.dialErrorLimit if the host is still starting.`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 1.5, MAX_RETRY_MS);
    }
  }
}
