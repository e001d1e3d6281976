import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStack, TestStack } from "./cli";
import { freePort, Sshd, startSshd } from "./sshd";

const fixture = join(__dirname, "fixtures/command");
const TOKEN = "s3cret-token-9f2c";

/** Sets plain and secret config in one CLI call; set-all keeps values that start with "-" intact. */
async function setConfig(
  stack: TestStack,
  plain: Record<string, string>,
  secret: Record<string, string> = {},
) {
  const pairs = (flag: string, values: Record<string, string>) =>
    Object.entries(values).flatMap(([key, value]) => [flag, `${key}=${value}`]);
  await stack.pulumiOk([
    "config",
    "set-all",
    ...pairs("--plaintext", plain),
    ...pairs("--secret", secret),
  ]);
}

async function disposeStack(stack: TestStack | undefined): Promise<void> {
  if (!stack) return;
  await stack.pulumi(["destroy", "--yes"]);
  stack.dispose();
}

describe("pulumi-resource-command local.Command", () => {
  let stack: TestStack;
  let markerDir: string;
  const triggeredLog = () =>
    readFileSync(join(markerDir, "triggered.log"), "utf8").trim().split("\n");

  beforeAll(async () => {
    markerDir = mkdtempSync(join(tmpdir(), "command-markers-"));
    stack = await createTestStack(fixture, "command");
    await setConfig(stack, { markerDir, greeting: "hello", run: "1" }, { token: TOKEN });
  });

  afterAll(async () => {
    await disposeStack(stack);
    rmSync(markerDir, { recursive: true, force: true });
  });

  it("runs create with environment and stdin and keeps output of secret input secret", async () => {
    await stack.pulumiOk(["up", "--yes"]);

    expect(await stack.outputs()).toEqual({
      greeted: "hello|from stdin",
      triggered: "run-1",
      secretEnv: "token has 17 characters",
    });
    const shown = JSON.parse(await stack.pulumiOk(["stack", "output", "--json"]));
    expect(shown.secretEnv).toBe("[secret]");
    expect(await stack.pulumiOk(["stack", "export"])).not.toContain(TOKEN);
  });

  it("runs update with the previous stdout in the environment when an input changes", async () => {
    await setConfig(stack, { greeting: "hi" });
    await stack.pulumiOk(["up", "--yes"]);

    expect((await stack.outputs()).greeted).toBe("updated:hello|from stdin:hi");
    expect(triggeredLog()).toEqual(["created run-1"]);
  });

  it("replaces the command when its triggers change", async () => {
    await setConfig(stack, { run: "2" });
    await stack.pulumiOk(["up", "--yes"]);

    expect((await stack.outputs()).triggered).toBe("run-2");
    expect(triggeredLog()).toEqual(["created run-1", "created run-2", "deleted run-1"]);
  });

  it("fails up with the command's stderr and exit code, and completes once fixed", async () => {
    await setConfig(stack, { flakyExit: "3" });
    const failed = await stack.pulumi(["up", "--yes"]);
    const printed = `${failed.stdout}\n${failed.stderr}`;

    expect(failed.code).not.toBe(0);
    expect(printed).toContain(
      'command:local:Command "flaky": the create command exited with code 3; stderr:\n' +
        "    flaky: told to fail with 3",
    );
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('if [ "$EXIT_CODE"');

    await setConfig(stack, { flakyExit: "0" });
    await stack.pulumiOk(["up", "--yes"]);
    expect((await stack.outputs()).flaky).toBe("recovered");
  });

  it("runs the delete command stored in state on destroy", async () => {
    await stack.pulumiOk(["destroy", "--yes"]);

    expect(readFileSync(join(markerDir, "greeted.deleted"), "utf8")).toBe(
      "updated:hello|from stdin:hi",
    );
    expect(triggeredLog().at(-1)).toBe("deleted run-2");
  });
});

describe("pulumi-resource-command remote.Command", () => {
  let stack: TestStack;
  let sshd: Sshd;
  let remoteFile: string;

  beforeAll(async () => {
    sshd = await startSshd();
    remoteFile = join(sshd.dir, "written.txt");
    stack = await createTestStack(fixture, "remote");
    await setConfig(
      stack,
      {
        sshPort: String(sshd.port),
        sshUser: userInfo().username,
        sshHostKey: sshd.hostKey,
        remoteFile,
      },
      { sshKey: sshd.clientKey },
    );
  });

  afterAll(async () => {
    await disposeStack(stack);
    sshd?.process.kill("SIGTERM");
    if (sshd) rmSync(sshd.dir, { recursive: true, force: true });
  });

  it("runs create over SSH with environment and stdin, and delete on destroy", async () => {
    await stack.pulumiOk(["up", "--yes"]);

    expect(await stack.outputs()).toEqual({ remote: "remote hello:via stdin" });
    expect(readFileSync(remoteFile, "utf8")).toBe("remote hello:via stdin");
    expect(await stack.pulumiOk(["stack", "export"])).not.toContain("PRIVATE KEY");

    await stack.pulumiOk(["destroy", "--yes"]);
    expect(existsSync(remoteFile)).toBe(false);
  });

  it("fails naming host and port when the SSH connection is refused", async () => {
    const closedPort = await freePort();
    await setConfig(stack, { refusedPort: String(closedPort) });
    const failed = await stack.pulumi(["up", "--yes"]);

    expect(failed.code).not.toBe(0);
    expect(`${failed.stdout}\n${failed.stderr}`).toContain(
      `could not connect to SSH server 127.0.0.1:${closedPort} as ${userInfo().username} after 3 attempts: ` +
        `connect ECONNREFUSED 127.0.0.1:${closedPort}.`,
    );
  });
});
