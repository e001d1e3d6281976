import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root, for locating the tools that `npm run setup` provides. */
export const repoRoot = resolve(__dirname, "../..");

/** Result of one CLI invocation. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throwaway Pulumi stack in a temporary file backend, bound to one program directory. */
export interface TestStack {
  readonly name: string;
  readonly backendDir: string;
  /** Runs `pulumi <args>` on this stack (selected at creation); never throws on a non-zero exit. */
  pulumi(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Runs pulumi and throws with the CLI's output when it fails. */
  pulumiOk(args: string[], env?: Record<string, string>): Promise<string>;
  /** Stack outputs with secrets shown. */
  outputs(): Promise<Record<string, unknown>>;
  /** Deletes the backend folder and the stack's settings file beside the program. */
  dispose(): void;
}

/**
 * Throws unless the tools from `npm run setup` are on PATH: end-to-end tests must fail, not skip,
 * when the toolchain is missing.
 */
export function assertToolchain(): void {
  for (const tool of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
    if (!existsSync(join(repoRoot, ".tools/bin", tool))) {
      throw new Error(`${tool} is missing from .tools/bin; run: npm run setup`);
    }
  }
  if (!(process.env.PATH ?? "").includes(join(repoRoot, ".tools/bin"))) {
    throw new Error("the tests must run through `npm test`, which puts .tools/bin on PATH");
  }
}

/** Creates a stack with a fresh backend and passphrase for the program in `programDir`. */
export async function createTestStack(programDir: string, prefix = "e2e"): Promise<TestStack> {
  assertToolchain();
  const backendDir = mkdtempSync(join(tmpdir(), `ai-gateway-${prefix}-`));
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}`;
  const baseEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
    // A home of its own keeps the selected stack apart from other tests and from the user's.
    PULUMI_HOME: join(backendDir, "home"),
  };
  delete baseEnv.PULUMI_CONFIG_PASSPHRASE_FILE;

  const pulumi = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const argv = [...args, "--non-interactive"];
    try {
      const { stdout, stderr } = await run("pulumi", argv, {
        cwd: programDir,
        env: { ...baseEnv, ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: failure.code ?? 1,
        stdout: failure.stdout ?? "",
        stderr: failure.stderr ?? "",
      };
    }
  };
  const pulumiOk = async (args: string[], env?: Record<string, string>): Promise<string> => {
    const result = await pulumi(args, env);
    if (result.code !== 0) {
      throw new Error(
        `pulumi ${args.join(" ")} failed (${result.code}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    return result.stdout;
  };

  const init = await run("pulumi", ["stack", "init", name, "--non-interactive"], {
    cwd: programDir,
    env: baseEnv,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`pulumi stack init failed: ${error.stderr ?? String(error)}`);
  });
  void init;

  return {
    name,
    backendDir,
    pulumi,
    pulumiOk,
    outputs: async () =>
      JSON.parse(await pulumiOk(["stack", "output", "--json", "--show-secrets"])),
    dispose: () => {
      rmSync(backendDir, { recursive: true, force: true });
      rmSync(join(programDir, `Pulumi.${name}.yaml`), { force: true });
    },
  };
}
