import type { AxiosInstance, AxiosResponse } from "axios";

/** Where the Admin API is and the key that opens it. */
export interface AdminConnection {
  url: string;
  key: string;
}

/** One Admin API answer. */
export interface AdminResponse {
  status: number;
  data: unknown;
}

/** A failed Admin API call: its message says what to fix; `status` is APISIX's answer, if any. */
export type AdminApiError = Error & { status?: number };

/**
 * Builds an AdminApiError. A plain Error, not a subclass: Pulumi serializes provider code, and a
 * serialized Error subclass loses its message.
 */
function adminError(message: string, status?: number): AdminApiError {
  return Object.assign(new Error(message), { status });
}

/** Statuses worth retrying: APISIX or etcd busy or restarting. */
const transientStatuses = [500, 502, 503, 504];
/** Socket errors worth retrying. */
const transientCodes = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
];

/** What to check for each kind of refusal. */
function hintFor(status: number | undefined, url: string): string {
  switch (status) {
    case undefined:
      return `check that APISIX runs and that ai-gateway:adminUrl (${url}) points at its Admin API`;
    case 401:
      return "check ai-gateway:adminKey (or GATEWAY_ADMIN_KEY) against admin_key in APISIX's config.yaml";
    case 403:
      return "allow this machine's address in deployment.admin.allow_admin of APISIX's config.yaml";
    case 400:
      return "the body was refused; check the stack config values it was built from";
    default:
      return "check the APISIX error log";
  }
}

/** Pulls APISIX's own message out of an error body (`error_msg`, `message` or plain text). */
function messageOf(data: unknown): string {
  if (typeof data === "string") return data.trim();
  if (data && typeof data === "object") {
    const body = data as Record<string, unknown>;
    const text = [body.error_msg, body.message, body.description].filter(
      (v) => typeof v === "string",
    );
    if (text.length > 0) return text.join(" - ");
  }
  return JSON.stringify(data);
}

/**
 * Number of attempts for one call: GATEWAY_ADMIN_ATTEMPTS, default 5 (waits of 0.25, 0.5, 1 and
 * 2 seconds between them).
 */
function attemptsAllowed(): number {
  const value = Number(process.env.GATEWAY_ADMIN_ATTEMPTS);
  return Number.isInteger(value) && value > 0 ? value : 5;
}

/**
 * Sends one Admin API request, retrying transient failures with backoff. Statuses in `accept`
 * (always 2xx) are returned; anything else throws AdminApiError naming method, path, status,
 * APISIX's message and the fix. axios is required here, not imported at the top, because Pulumi
 * serializes the provider methods that call this function.
 */
export async function adminRequest(
  connection: AdminConnection,
  method: "GET" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  accept: number[] = [],
): Promise<AdminResponse> {
  const axios: AxiosInstance = require("axios");
  const url = `${connection.url.replace(/\/+$/, "")}/apisix/admin/${path}`;
  const attempts = attemptsAllowed();
  let lastError: AdminApiError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let response: AxiosResponse | undefined;
    let code: string | undefined;
    try {
      response = await axios.request({
        method,
        url,
        data: body,
        headers: { "X-API-KEY": connection.key },
        timeout: 15_000,
        validateStatus: () => true,
      });
    } catch (error) {
      code = (error as { code?: string }).code ?? String(error);
      if (!transientCodes.includes(code)) {
        throw adminError(
          `APISIX ${method} /apisix/admin/${path} failed: ${code}; ${hintFor(undefined, connection.url)}.`,
        );
      }
    }
    const status = response?.status;
    if (status !== undefined && ((status >= 200 && status < 300) || accept.includes(status))) {
      return { status, data: response?.data };
    }
    const what =
      status === undefined ? `failed: ${code}` : `returned ${status}: ${messageOf(response?.data)}`;
    lastError = adminError(
      `APISIX ${method} /apisix/admin/${path} ${what}; ${hintFor(status, connection.url)}.`,
      status,
    );
    const transient = status === undefined || transientStatuses.includes(status);
    if (!transient || attempt === attempts) break;
    await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
  }
  throw lastError;
}
