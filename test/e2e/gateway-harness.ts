import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ApisixDouble } from "../apisix-double/server";
import { CliResult, createTestStack, repoRoot, TestStack } from "./cli";

/** The admin key the double accepts in end-to-end tests. */
export const adminKey = "e2e-admin-key-0123456789abcdef";

/** A test stack of the real program, wired to an Admin API double and a temporary groups.yaml. */
export interface GatewayHarness {
  readonly double: ApisixDouble;
  readonly stack: TestStack;
  readonly dir: string;
  readonly kiloDir: string;
  /** Writes groups.yaml for the next run. */
  writeGroups(roster: unknown): void;
  /** Sets plain stack config keys (namespace ai-gateway). */
  setConfig(values: Record<string, string>): Promise<void>;
  /** `pulumi up --yes`; throws with the CLI output on failure. */
  up(): Promise<string>;
  /** `pulumi up --yes` that may fail. */
  tryUp(): Promise<CliResult>;
  /** `pulumi preview --diff --expect-no-changes` result. */
  previewNoChanges(): Promise<CliResult>;
  dispose(): Promise<void>;
}

/** Starts a double and a stack of the repo's program configured to use it. */
export async function createGatewayHarness(prefix: string): Promise<GatewayHarness> {
  const double = new ApisixDouble(adminKey);
  await double.start();
  const dir = mkdtempSync(join(tmpdir(), `ai-gateway-${prefix}-files-`));
  const kiloDir = join(dir, "kilo");
  const stack = await createTestStack(repoRoot, prefix);
  // Failing calls should fail the run in seconds, not after the production backoff.
  const env = { GATEWAY_ADMIN_ATTEMPTS: "2" };

  const harness: GatewayHarness = {
    double,
    stack,
    dir,
    kiloDir,
    writeGroups: (roster) => writeFileSync(join(dir, "groups.yaml"), stringify(roster)),
    setConfig: async (values) => {
      const args = Object.entries(values).flatMap(([key, value]) => [
        "--plaintext",
        `ai-gateway:${key}=${value}`,
      ]);
      await stack.pulumiOk(["config", "set-all", ...args]);
    },
    up: () => stack.pulumiOk(["up", "--yes", "--skip-preview"], env),
    tryUp: () => stack.pulumi(["up", "--yes", "--skip-preview"], env),
    previewNoChanges: () => stack.pulumi(["preview", "--expect-no-changes", "--diff"], env),
    dispose: async () => {
      await stack.pulumi(["destroy", "--yes"], env);
      stack.dispose();
      await double.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await harness.setConfig({
    install: "false",
    adminUrl: double.url,
    groupsFile: join(dir, "groups.yaml"),
    kiloDir,
  });
  await stack.pulumiOk(["config", "set", "--secret", "ai-gateway:adminKey", adminKey]);
  return harness;
}

/** A small roster used across the end-to-end tests. */
export const sampleRoster = {
  groups: {
    alpha: { rateLimitTokens: 800, users: ["alice", { name: "bob", rateLimitTokens: 1000 }] },
    beta: { users: ["dave", "eve"] },
  },
};
