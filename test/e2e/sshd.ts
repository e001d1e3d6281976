import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway sshd on a loopback port, trusting one generated client key. */
export interface Sshd {
  port: number;
  dir: string;
  clientKey: string;
  hostKey: string;
  process: ChildProcess;
}

/** A TCP port on loopback that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(),
      );
    });
  });
}

/** Whether something accepts TCP connections on a loopback port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => resolve(!!socket.end()));
    socket.once("error", () => resolve(false));
  });
}

/** Starts sshd as root on a free loopback port with a fresh host key and client key. */
export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "command-sshd-"));
  for (const name of ["host_key", "client_key"]) {
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      name,
      "-f",
      join(dir, name),
    ]);
  }
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PermitRootLogin prohibit-password",
    "StrictModes no",
  ];
  writeFileSync(join(dir, "sshd_config"), `${config.join("\n")}\n`);
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk) => (log += chunk));
  for (let waited = 0; !(await canConnect(port)); waited += 100) {
    if (child.exitCode !== null || waited > 10_000)
      throw new Error(`sshd did not start on port ${port}:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const hostKey = readFileSync(join(dir, "host_key.pub"), "utf8").trim();
  return {
    port,
    dir,
    clientKey: readFileSync(join(dir, "client_key"), "utf8"),
    hostKey,
    process: child,
  };
}
