import { parseRoster, Roster } from "../../config/groups";
import { GatewaySettings } from "../../config/settings";

/**
 * Settings as readSettings returns them for stack `dev` with install off, an admin key and no
 * other config; secrets are plain strings. Tests override only the fields they are about.
 */
export function settingsFor(
  overrides: Partial<GatewaySettings<string>> = {},
): GatewaySettings<string> {
  return {
    stack: "dev",
    groupsFile: "groups.yaml",
    enabled: true,
    mode: "per-user",
    groupKeys: "shared",
    rateLimitTokens: 500,
    rateLimitWindow: 60,
    embedding: true,
    embeddingModel: "user.harrier-oss-v1-0.6b",
    embeddingQuota: "separate",
    embeddingRateLimitTokens: 500,
    lemonadeServers: [{ url: "http://127.0.0.1:13305", weight: 1, priority: 0 }],
    lemonadeApiPath: "/v1",
    lemonadeModel: "user.gemma-4-31b-it",
    llmTimeoutMs: 600_000,
    externalIp: "127.0.0.1",
    proxyPort: 9080,
    adminUrl: "http://127.0.0.1:9180",
    adminKey: "admin-key",
    quotaPolicy: "local",
    install: false,
    kiloDir: "kilo/dev",
    keyRotation: {},
    ...overrides,
  };
}

/** Parses roster YAML written inline in a test. */
export function roster(text: string): Roster {
  return parseRoster(text, "groups.yaml");
}
