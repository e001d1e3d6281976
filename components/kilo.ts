import { GatewaySettings } from "../config/settings";

/** The id under which kilo.json names the gateway as a provider. */
export const kiloProviderId = "lemonade-gateway";

/** The model id Kilo asks for: the configured one, e.g. `user.gemma-4-31b-it`. */
export function kiloModelKey(model: string): string {
  return model.replace(/^user\./, "");
}

/**
 * Builds one participant's Kilo Code config: the gateway as provider `lemonade-gateway` with the
 * participant's key, the chat model, Kilo's experimental flags and, with embeddings on, codebase
 * indexing through the gateway's `/v1/embeddings`.
 */
export function buildKiloConfig<S>(settings: GatewaySettings<S>, apiKey: string): object {
  const baseUrl = `http://${settings.externalIp}:${settings.proxyPort}`;
  const modelKey = kiloModelKey(settings.lemonadeModel);
  const config: Record<string, unknown> = {
    providers: { [kiloProviderId]: { baseUrl, apiKey } },
    models: { [modelKey]: { provider: kiloProviderId, modelId: settings.lemonadeModel } },
    experimental: {
      batch_tool: false,
      codebase_search: true,
      openTelemetry: false,
      continue_loop_on_deny: true,
      semantic_indexing: true,
      agent_manager_tool: true,
    },
  };
  if (settings.embedding) {
    config.indexing = {
      enabled: true,
      provider: "openai-compatible",
      vectorStore: "lancedb",
      "openai-compatible": { baseUrl: `${baseUrl}/v1`, apiKey, model: settings.embeddingModel },
    };
  }
  return config;
}
