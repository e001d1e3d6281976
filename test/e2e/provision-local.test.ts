import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canConnect, freePort } from "./sshd";
import { createTestStack, repoRoot, TestStack } from "./cli";

/** Runs redis-cli against the provisioned Redis; the password goes through REDISCLI_AUTH. */
function redisPing(port: number, password?: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.REDISCLI_AUTH = password;
  return execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { env })
    .toString()
    .trim();
}

describe("host provisioning of etcd and Redis on this machine", () => {
  let stack: TestStack;
  let dir: string;
  let ports: { etcd: number; peer: number; redis: number };

  const set = (values: Record<string, string>) =>
    stack.pulumiOk([
      "config",
      "set-all",
      ...Object.entries(values).flatMap(([k, v]) => ["--plaintext", `ai-gateway:${k}=${v}`]),
    ]);
  const up = () => stack.pulumiOk(["up", "--yes", "--skip-preview"]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ai-gateway-provision-"));
    // The services run as their own users, which must be able to reach their folders.
    chmodSync(dir, 0o755);
    ports = { etcd: await freePort(), peer: await freePort(), redis: await freePort() };
    stack = await createTestStack(repoRoot, "provision");
    await set({
      enabled: "false",
      services: '["etcd","redis"]',
      serviceDir: join(dir, "services"),
      etcdPort: String(ports.etcd),
      etcdPeerPort: String(ports.peer),
      redisPort: String(ports.redis),
      healthTimeoutSeconds: "8",
    });
  });

  afterAll(async () => {
    await stack?.pulumi(["destroy", "--yes", "--skip-preview"]);
    stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs and starts etcd and a password-protected Redis, both healthy", async () => {
    await up();
    const health = await fetch(`http://127.0.0.1:${ports.etcd}/health`);
    expect(await health.json()).toMatchObject({ health: "true" });

    const conf = join(dir, "services/conf/redis.conf");
    const stats = statSync(conf);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(execFileSync("stat", ["-c", "%U", conf]).toString().trim()).toBe("redis");
    const password = /^requirepass "([^"]+)"$/m.exec(readFileSync(conf, "utf8"))![1];
    expect(password.length).toBeGreaterThanOrEqual(43);
    expect(redisPing(ports.redis)).toContain("NOAUTH");
    expect(redisPing(ports.redis, password)).toBe("PONG");

    const state = await stack.pulumiOk(["stack", "export"]);
    expect(state).not.toContain(password);
  });

  it("changes nothing on a second up", async () => {
    const output = await up();
    expect(output).toMatch(/Resources:\s+6 unchanged/);
  });

  it("fails with the service, host and what it saw when Redis never gets healthy, and recovers", async () => {
    await stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    const sockets = new Set<Socket>();
    const squatter: Server = createServer((socket) => {
      sockets.add(socket);
      socket.end("-ERR not redis\r\n");
    });
    await new Promise<void>((resolve) => squatter.listen(ports.redis, "127.0.0.1", resolve));
    try {
      const failed = await stack.pulumi(["up", "--yes", "--skip-preview"]);
      expect(failed.code).not.toBe(0);
      expect(failed.stdout).toMatch(
        /redis on local not healthy after 8 s \(.+\); check the service, its port and its log/,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => squatter.close(resolve));
    }
    await up();
    expect(await canConnect(ports.redis)).toBe(true);
  });

  it("fails clearly when a package cannot be installed, and recovers once it is fixed", async () => {
    await set({ etcdPackage: "ai-gateway-no-such-package" });
    const failed = await stack.pulumi(["up", "--yes", "--skip-preview"]);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toContain(
      "etcd on local: package ai-gateway-no-such-package could not be installed (E: Unable to locate package ai-gateway-no-such-package); check the package name and the host's APT sources",
    );
    await set({ etcdPackage: "etcd-server" });
    await up();
    expect((await fetch(`http://127.0.0.1:${ports.etcd}/health`)).ok).toBe(true);
  });

  it("stops both services on destroy", async () => {
    await stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    expect(await canConnect(ports.etcd)).toBe(false);
    expect(await canConnect(ports.redis)).toBe(false);
  });
});
