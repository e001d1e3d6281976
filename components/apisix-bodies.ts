import { PlannedConsumer } from "../config/plan";
import { GatewaySettings, LlmServer } from "../config/settings";

/**
 * An Admin API body split in two: `body` is shown in diffs, `secrets` maps dotted paths inside
 * the body (such as `plugins.key-auth.key`) to values that stay Pulumi secrets.
 */
export interface SplitBody<S> {
  body: Record<string, unknown>;
  secrets: Record<string, S>;
}

/** Route ids this program owns on the gateway. */
export const routeIds = { chat: "ai-chat", embeddings: "ai-embeddings" } as const;

/** Message in the body of a 429 once a key's token quota is spent. */
export const quotaExceededMessage = "token quota exceeded";

/** Labels on every object the stack creates; APISIX label values allow no spaces. */
export function managedLabels(stack: string): Record<string, string> {
  return { "managed-by": "ai-gateway", "ai-gateway-stack": stack.replace(/\s+/g, "_") };
}

/** ai-proxy-multi instance names: `chat`, or `chat-1`, `chat-2`… with several servers. */
export function instanceNames(kind: "chat" | "embeddings", count: number): string[] {
  return count === 1 ? [kind] : Array.from({ length: count }, (_, i) => `${kind}-${i + 1}`);
}

function aiProxyMulti<S>(
  settings: GatewaySettings<S>,
  names: string[],
  endpoint: (server: LlmServer) => string,
  model: string,
  secretPrefix: string,
): SplitBody<S> {
  const secrets: Record<string, S> = {};
  const instances = settings.lemonadeServers.map((server, index) => {
    if (settings.lemonadeApiKey !== undefined) {
      secrets[`${secretPrefix}.instances.${index}.auth.header.Authorization`] =
        settings.lemonadeApiKey;
    }
    return {
      name: names[index],
      provider: "openai-compatible",
      weight: server.weight,
      priority: server.priority,
      // APISIX 3.18 rejects an instance without `auth`; the key itself travels as a secret.
      auth: settings.lemonadeApiKey === undefined ? {} : { header: {} },
      override: { endpoint: endpoint(server) },
      options: { model },
    };
  });
  return { body: { instances, timeout: settings.llmTimeoutMs }, secrets };
}

/**
 * Rewrites APISIX's own refusals (`{"error_msg": …}` from ai-rate-limiting, `{"message": …}`
 * from key-auth, served as text/plain) into the `{"error": {…}}` JSON that OpenAI clients read.
 * Error bodies that are already in that shape do not match and pass unchanged.
 */
export function openAiErrorRewrite(): Record<string, unknown> {
  return {
    vars: [["status", ">=", 400]],
    headers: { set: { "Content-Type": "application/json" } },
    filters: [
      {
        regex: '^\\{"(?:error_msg|message)":"([^"]*)"\\}\\s*$',
        replace: '{"error":{"message":"$1","type":"gateway_error"}}',
        scope: "once",
      },
    ],
  };
}

function route<S>(settings: GatewaySettings<S>, uri: string, proxy: SplitBody<S>): SplitBody<S> {
  return {
    body: {
      uri,
      methods: ["POST"],
      labels: managedLabels(settings.stack),
      plugins: {
        // OpenAI clients send `Authorization: Bearer <key>`; key-auth compares the whole header
        // value, so keys are stored as "Bearer <key>" and hidden from the LLM server.
        "key-auth": { header: "Authorization", hide_credentials: true },
        "ai-proxy-multi": proxy.body,
        "response-rewrite": openAiErrorRewrite(),
      },
    },
    secrets: proxy.secrets,
  };
}

/** The `/v1/chat/completions` route. */
export function buildChatRoute<S>(settings: GatewaySettings<S>): SplitBody<S> {
  const names = instanceNames("chat", settings.lemonadeServers.length);
  const endpoint = (s: LlmServer) => `${s.url}${settings.lemonadeApiPath}/chat/completions`;
  const proxy = aiProxyMulti(
    settings,
    names,
    endpoint,
    settings.lemonadeModel,
    "plugins.ai-proxy-multi",
  );
  return route(settings, "/v1/chat/completions", proxy);
}

/**
 * The `/v1/embeddings` route. Embeddings are metered only through ai-proxy-multi; with a shared
 * quota its instances take the chat instance names, so both routes draw on the same counters.
 */
export function buildEmbeddingsRoute<S>(settings: GatewaySettings<S>): SplitBody<S> {
  const kind = settings.embeddingQuota === "shared" ? "chat" : "embeddings";
  const names = instanceNames(kind, settings.lemonadeServers.length);
  const endpoint = (s: LlmServer) => `${s.url}${settings.lemonadeApiPath}/embeddings`;
  const proxy = aiProxyMulti(
    settings,
    names,
    endpoint,
    settings.embeddingModel,
    "plugins.ai-proxy-multi",
  );
  return route(settings, "/v1/embeddings", proxy);
}

/** A consumer: the holder of one token quota, shared by all of its credentials. */
export function buildConsumer<S>(
  consumer: PlannedConsumer,
  settings: GatewaySettings<S>,
): SplitBody<S> {
  const count = settings.lemonadeServers.length;
  const budget = (names: string[], limit: number) =>
    names.map((name) => ({ name, limit, time_window: consumer.window }));
  const instances = budget(instanceNames("chat", count), consumer.limit);
  if (settings.embedding && settings.embeddingQuota === "separate") {
    instances.push(...budget(instanceNames("embeddings", count), consumer.embeddingLimit));
  }
  const secrets: Record<string, S> = {};
  const limiting: Record<string, unknown> = {
    limit_strategy: "total_tokens",
    instances,
    rejected_code: 429,
    rejected_msg: quotaExceededMessage,
    policy: settings.redis ? "redis" : "local",
  };
  if (settings.redis) {
    limiting.redis_host = settings.redis.host;
    limiting.redis_port = settings.redis.port;
    if (settings.redis.password !== undefined) {
      secrets["plugins.ai-rate-limiting.redis_password"] = settings.redis.password;
    }
  }
  return {
    body: {
      username: consumer.username,
      labels: { ...managedLabels(settings.stack), group: consumer.group.replace(/\s+/g, "_") },
      plugins: { "ai-rate-limiting": limiting },
    },
    secrets,
  };
}

/** A key-auth credential; the key is stored as "Bearer <key>" (see the routes' key-auth). */
export function buildCredential<S, K>(settings: GatewaySettings<S>, bearerKey: K): SplitBody<K> {
  return {
    body: {
      labels: managedLabels(settings.stack),
      plugins: { "key-auth": {} },
    },
    secrets: { "plugins.key-auth.key": bearerKey },
  };
}
