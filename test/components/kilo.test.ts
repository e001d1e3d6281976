import { describe, expect, it } from "vitest";
import { buildKiloConfig, kiloModelKey, kiloProviderId } from "../../components/kilo";
import { settingsFor } from "../config/fixtures";

type KiloConfig = Record<string, Record<string, unknown>>;

describe("kiloModelKey", () => {
  it("drops the user. prefix of a model id", () => {
    expect(kiloModelKey("user.gemma-4-31b-it")).toBe("gemma-4-31b-it");
  });

  it("drops the prefix only once", () => {
    expect(kiloModelKey("user.user.x")).toBe("user.x");
  });

  it("keeps a model id without the prefix", () => {
    expect(kiloModelKey("qwen-3")).toBe("qwen-3");
  });

  it("keeps user. when it is not at the start", () => {
    expect(kiloModelKey("org.user.x")).toBe("org.user.x");
  });
});

describe("buildKiloConfig", () => {
  const settings = settingsFor({ externalIp: "10.0.0.7", proxyPort: 8080 });

  it("names the gateway as provider with the participant's key", () => {
    const config = buildKiloConfig(settings, "sk-alice") as KiloConfig;

    expect(kiloProviderId).toBe("lemonade-gateway");
    expect(config.providers).toEqual({
      "lemonade-gateway": { baseUrl: "http://10.0.0.7:8080", apiKey: "sk-alice" },
    });
  });

  it("maps the short model key to the configured model id", () => {
    const config = buildKiloConfig(settings, "sk-alice") as KiloConfig;

    expect(config.models).toEqual({
      "gemma-4-31b-it": { provider: "lemonade-gateway", modelId: "user.gemma-4-31b-it" },
    });
  });

  it("uses a model id without prefix as its own key", () => {
    const config = buildKiloConfig(settingsFor({ lemonadeModel: "qwen-3" }), "k") as KiloConfig;

    expect(config.models).toEqual({
      "qwen-3": { provider: "lemonade-gateway", modelId: "qwen-3" },
    });
  });

  it("sets Kilo's experimental flags", () => {
    const config = buildKiloConfig(settings, "sk-alice") as KiloConfig;

    expect(config.experimental).toEqual({
      batch_tool: false,
      codebase_search: true,
      openTelemetry: false,
      continue_loop_on_deny: true,
      semantic_indexing: true,
      agent_manager_tool: true,
    });
  });

  it("indexes through the gateway's /v1 with the embedding model when embeddings are on", () => {
    const config = buildKiloConfig(
      settingsFor({ externalIp: "10.0.0.7", proxyPort: 8080, embeddingModel: "nomic-embed" }),
      "sk-alice",
    ) as KiloConfig;

    expect(config.indexing).toEqual({
      enabled: true,
      provider: "openai-compatible",
      vectorStore: "lancedb",
      "openai-compatible": {
        baseUrl: "http://10.0.0.7:8080/v1",
        apiKey: "sk-alice",
        model: "nomic-embed",
      },
    });
  });

  it("has no indexing section when embeddings are off", () => {
    const config = buildKiloConfig(settingsFor({ embedding: false }), "sk-alice") as KiloConfig;

    expect(Object.keys(config)).toEqual(["providers", "models", "experimental"]);
  });

  it("has exactly the four sections when embeddings are on", () => {
    expect(Object.keys(buildKiloConfig(settings, "k"))).toEqual([
      "providers",
      "models",
      "experimental",
      "indexing",
    ]);
  });

  it("builds configs that differ only in the key for two participants", () => {
    const alice = JSON.stringify(buildKiloConfig(settings, "sk-alice"));
    const bob = JSON.stringify(buildKiloConfig(settings, "sk-bob"));

    expect(alice.replace(/sk-alice/g, "KEY")).toBe(bob.replace(/sk-bob/g, "KEY"));
    expect(alice).not.toContain("sk-bob");
  });
});
