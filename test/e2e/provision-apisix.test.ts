import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apisixFiles } from "../../components/apisix";
import { createTestStack, repoRoot, TestStack } from "./cli";

// No real APISIX can be installed here: its APT repository is out of reach. This runs the real
// install script as far as it gets and checks that it stops cleanly with a message that says so.
describe("APISIX provisioning without its repository", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createTestStack(repoRoot, "apisix");
    await stack.pulumiOk([
      "config",
      "set-all",
      "--plaintext",
      "ai-gateway:enabled=false",
      "--plaintext",
      'ai-gateway:services=["apisix"]',
      "--plaintext",
      "ai-gateway:apisixRepository=https://repos.apiseven.invalid/packages/debian",
    ]);
  });

  afterAll(async () => {
    await stack?.pulumi(["destroy", "--yes", "--skip-preview"]);
    stack?.dispose();
  });

  it("fails naming the signing key it could not fetch and leaves no half-written keyring", async () => {
    const result = await stack.pulumi(["up", "--yes", "--skip-preview"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      "apisix on local: could not fetch the APT signing key from https://repos.apiseven.invalid/pubkey.gpg; check the host's network or ai-gateway:apisixRepository",
    );
    expect(existsSync(apisixFiles.keyring)).toBe(false);
    expect(existsSync(`${apisixFiles.keyring}.tmp`)).toBe(false);
    expect(existsSync(`${apisixFiles.keyring}.asc`)).toBe(false);
    expect(existsSync(apisixFiles.source)).toBe(false);
  });

  it("never shows the generated admin key", async () => {
    const state = JSON.parse(await stack.pulumiOk(["stack", "export", "--show-secrets"]));
    const stored = state.deployment.resources.find((r: { urn: string }) =>
      r.urn.endsWith("::apisix-admin-key"),
    )?.outputs?.value;
    // A secret in an exported state is an envelope whose plaintext is JSON.
    const key = JSON.parse(stored.plaintext);
    expect(typeof key).toBe("string");
    expect(key.length).toBeGreaterThanOrEqual(43);
    const shown = await stack.pulumi(["up", "--yes", "--skip-preview"]);
    expect(shown.stdout + shown.stderr).not.toContain(key);
    expect(await stack.pulumiOk(["stack", "export"])).not.toContain(key);
  });
});
