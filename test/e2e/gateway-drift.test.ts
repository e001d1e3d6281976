import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayHarness, GatewayHarness, sampleRoster } from "./gateway-harness";

const outsiderConsumer = {
  username: "organiser-tools",
  plugins: { "key-auth": { key: "Bearer someone-elses-key-0123456789" } },
};
const outsiderRoute = { uri: "/status", plugins: { "key-auth": {} }, id: "status-page" };

describe("gateway drift and ownership through the Pulumi CLI", () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await createGatewayHarness("drift");
    harness.double.seed("consumers/organiser-tools", outsiderConsumer);
    harness.double.seed("routes/status-page", outsiderRoute);
    harness.writeGroups(sampleRoster);
    await harness.up();
  });

  afterAll(async () => {
    await harness?.dispose();
  });

  it("shows a consumer deleted behind the stack's back on refresh and recreates it on the next up", async () => {
    harness.double.remove("consumers/beta-eve");
    const refresh = await harness.stack.pulumiOk(["refresh", "--yes", "--skip-preview"]);
    expect(refresh).toMatch(/consumer-beta-eve\s+deleted/);
    await harness.up();
    expect(harness.double.paths("consumers/beta-eve")).toEqual([
      "consumers/beta-eve",
      "consumers/beta-eve/credentials/beta-eve",
    ]);
  });

  it("shows a limit edited behind the stack's back on refresh and repairs it on the next up", async () => {
    const edited = structuredClone(harness.double.get("consumers/alpha-bob")) as any;
    edited.plugins["ai-rate-limiting"].instances[0].limit = 99999;
    harness.double.seed("consumers/alpha-bob", edited);

    const refresh = await harness.stack.pulumiOk(["refresh", "--yes", "--skip-preview", "--diff"]);
    expect(refresh).toMatch(/consumer-alpha-bob/);
    expect(refresh).toContain("99999");
    const preview = await harness.previewNoChanges();
    expect(preview.code).not.toBe(0);

    await harness.up();
    const repaired = harness.double.get("consumers/alpha-bob") as any;
    expect(repaired.plugins["ai-rate-limiting"].instances[0].limit).toBe(1000);
  });

  it("refuses to take over an object of the same name that the stack did not create", async () => {
    harness.double.seed("consumers/beta-zoe", { username: "beta-zoe", plugins: {} });
    harness.writeGroups({
      groups: { ...sampleRoster.groups, beta: { users: ["dave", "eve", "zoe"] } },
    });
    const result = await harness.tryUp();
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(
      "APISIX object /apisix/admin/consumers/beta-zoe already exists and was not created by this stack; rename the group or user, or remove that object yourself if it is no longer used.",
    );
    expect(harness.double.get("consumers/beta-zoe")).toEqual({ username: "beta-zoe", plugins: {} });
    harness.writeGroups(sampleRoster);
    await harness.up();
  });

  it("destroys everything it created and leaves objects it did not create alone", async () => {
    await harness.stack.pulumiOk(["destroy", "--yes", "--skip-preview"]);
    expect(harness.double.paths()).toEqual([
      "consumers/beta-zoe",
      "consumers/organiser-tools",
      "routes/status-page",
    ]);
    expect(harness.double.get("consumers/organiser-tools")).toEqual(outsiderConsumer);
  });
});
