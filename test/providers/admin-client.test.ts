import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminRequest } from "../../providers/admin-client";
import { ApisixDouble } from "../apisix-double/server";

describe("adminRequest", () => {
  const double = new ApisixDouble("client-test-key");
  const connection = () => ({ url: double.url, key: "client-test-key" });

  beforeAll(() => double.start());
  afterAll(() => double.stop());
  afterEach(() => {
    double.failures.length = 0;
    double.resetCalls();
    delete process.env.GATEWAY_ADMIN_ATTEMPTS;
  });

  it("returns the status and body of a successful call", async () => {
    const response = await adminRequest(connection(), "GET", "routes");
    expect(response).toEqual({ status: 200, data: { list: [], total: 0 } });
  });

  it("returns an accepted error status instead of throwing", async () => {
    const response = await adminRequest(connection(), "GET", "routes/nope", undefined, [404]);
    expect(response).toEqual({ status: 404, data: { message: "Key not found" } });
  });

  it("names method, path, status, APISIX's message and the admin key fix on a 401", async () => {
    const call = adminRequest({ url: double.url, key: "wrong" }, "GET", "routes");
    await expect(call).rejects.toThrow(
      "APISIX GET /apisix/admin/routes returned 401: failed to check token - wrong apikey; check ai-gateway:adminKey (or GATEWAY_ADMIN_KEY) against admin_key in APISIX's config.yaml.",
    );
  });

  it("reports a refused body with APISIX's error_msg and does not retry it", async () => {
    const call = adminRequest(connection(), "PUT", "consumers/alpha-bob", {
      username: "alpha-alice",
    });
    await expect(call).rejects.toThrow(
      "APISIX PUT /apisix/admin/consumers/alpha-bob returned 400: wrong username; the body was refused; check the stack config values it was built from.",
    );
    expect(double.calls).toHaveLength(1);
  });

  it("retries a 503 and succeeds on the next attempt", async () => {
    double.failures.push({ when: () => true, status: 503, times: 2 });
    const response = await adminRequest(connection(), "GET", "routes");
    expect(response.status).toBe(200);
    expect(double.calls.map((call) => call.status)).toEqual([503, 503, 200]);
  });

  it("retries a dropped connection", async () => {
    double.failures.push({ when: () => true, status: "drop", times: 1 });
    const response = await adminRequest(connection(), "GET", "routes");
    expect(response.status).toBe(200);
    expect(double.calls).toHaveLength(2);
  });

  it("gives up after GATEWAY_ADMIN_ATTEMPTS attempts with the last error", async () => {
    process.env.GATEWAY_ADMIN_ATTEMPTS = "3";
    double.failures.push({ when: () => true, status: 500, times: 10 });
    await expect(adminRequest(connection(), "GET", "routes")).rejects.toThrow(
      "APISIX GET /apisix/admin/routes returned 500: injected failure; check the APISIX error log.",
    );
    expect(double.calls).toHaveLength(3);
  });

  it("names the URL to check when nothing listens there", async () => {
    process.env.GATEWAY_ADMIN_ATTEMPTS = "1";
    const call = adminRequest({ url: "http://127.0.0.1:1", key: "k" }, "GET", "routes");
    await expect(call).rejects.toThrow(
      "APISIX GET /apisix/admin/routes failed: ECONNREFUSED; check that APISIX runs and that ai-gateway:adminUrl (http://127.0.0.1:1) points at its Admin API.",
    );
  });
});
