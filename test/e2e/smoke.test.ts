import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStack, TestStack } from "./cli";

describe("pulumi toolchain", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createTestStack(join(__dirname, "fixtures/smoke"), "smoke");
  });

  afterAll(async () => {
    if (!stack) return;
    await stack.pulumi(["destroy", "--yes"]);
    stack.dispose();
  });

  it("reports the pinned CLI version", async () => {
    expect((await stack.pulumiOk(["version"])).trim()).toBe("v3.276.0");
  });

  it("creates a dynamic resource and a local command and reads their outputs back", async () => {
    await stack.pulumiOk(["up", "--yes"]);
    expect(await stack.outputs()).toEqual({ length: 5, commandOutput: "hello from sh" });
  });

  it("leaves the state empty after destroy", async () => {
    await stack.pulumiOk(["destroy", "--yes"]);
    const exported = JSON.parse(await stack.pulumiOk(["stack", "export"]));
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});
