import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStack, repoRoot, TestStack } from "./cli";
import { canConnect, freePort, Sshd, startSshd } from "./sshd";

describe("host provisioning of Redis over SSH", () => {
  let sshd: Sshd;
  let stack: TestStack;
  let dir: string;
  let redisPort: number;

  const set = (values: Record<string, string>) =>
    stack.pulumiOk([
      "config",
      "set-all",
      ...Object.entries(values).flatMap(([k, v]) => ["--plaintext", `ai-gateway:${k}=${v}`]),
    ]);

  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), "ai-gateway-ssh-"));
    chmodSync(dir, 0o755);
    redisPort = await freePort();
    stack = await createTestStack(repoRoot, "ssh");
    await set({
      enabled: "false",
      services: '["redis"]',
      serviceDir: join(dir, "services"),
      redisPort: String(redisPort),
      healthTimeoutSeconds: "10",
      sshHost: "127.0.0.1",
      sshPort: String(sshd.port),
      sshUser: "root",
      sshHostKey: sshd.hostKey,
    });
    const key = `ai-gateway:sshPrivateKey=${sshd.clientKey}`;
    await stack.pulumiOk(["config", "set-all", "--secret", key]);
  });

  afterAll(async () => {
    await stack?.pulumi(["destroy", "--yes", "--skip-preview"]);
    stack?.dispose();
    sshd?.process.kill("SIGTERM");
    if (sshd) rmSync(sshd.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs and starts Redis through remote commands without putting secrets in state", async () => {
    const output = await stack.pulumiOk(["up", "--yes", "--skip-preview"]);
    expect(output).toContain("command:remote:Command");
    const conf = readFileSync(join(dir, "services/conf/redis.conf"), "utf8");
    const password = /^requirepass "([^"]+)"$/m.exec(conf)![1];
    const env = { ...process.env, REDISCLI_AUTH: password };
    const pong = execFileSync("redis-cli", ["-p", String(redisPort), "ping"], { env });
    expect(pong.toString().trim()).toBe("PONG");

    const state = await stack.pulumiOk(["stack", "export"]);
    expect(state).not.toContain(password);
    expect(state).not.toContain(sshd.clientKey.split("\n")[1]);
  });

  it("changes nothing on a second up", async () => {
    const output = await stack.pulumiOk(["up", "--yes", "--skip-preview"]);
    expect(output).toMatch(/Resources:\s+4 unchanged/);
  });

  it("fails naming host and port when the SSH connection is refused, and recovers", async () => {
    await stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    const closed = await freePort();
    await set({ sshPort: String(closed) });
    const failed = await stack.pulumi(["up", "--yes", "--skip-preview"]);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toContain(`could not connect to SSH server 127.0.0.1:${closed}`);

    await set({ sshPort: String(sshd.port) });
    await stack.pulumiOk(["up", "--yes", "--skip-preview"]);
    expect(await canConnect(redisPort)).toBe(true);
  });

  it("stops Redis on destroy", async () => {
    await stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    expect(await canConnect(redisPort)).toBe(false);
  });
});
