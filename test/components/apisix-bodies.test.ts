import { describe, expect, it } from "vitest";
import {
  buildChatRoute,
  buildConsumer,
  buildCredential,
  buildEmbeddingsRoute,
  instanceNames,
  managedLabels,
  openAiErrorRewrite,
  quotaExceededMessage,
  routeIds,
} from "../../components/apisix-bodies";
import { planConsumers, PlannedConsumer } from "../../config/plan";
import { GatewaySettings } from "../../config/settings";
import { mergeSecrets } from "../../providers/body";
import { check, checkPlugins } from "../apisix-double/validate";
import { roster, settingsFor } from "../config/fixtures";

const twoServers = [
  { url: "http://llm-a:13305", weight: 3, priority: 1 },
  { url: "https://llm-b.example.org", weight: 0, priority: 0 },
];
const redis = { host: "redis.internal", port: 6380, password: "redis-pw" };

function consumerFor(
  settings: GatewaySettings<string>,
  text = "groups:\n  alpha:\n    users: [alice]",
) {
  return planConsumers(roster(text), settings)[0];
}

/** Merges the secrets back in and checks the whole route against APISIX's schemas. */
function routeProblems(
  split: { body: Record<string, unknown>; secrets: Record<string, string> },
  id: string,
) {
  const merged = mergeSecrets(split.body, split.secrets);
  return {
    route: check("route.json", { ...merged, id }),
    plugins: checkPlugins(merged.plugins as Record<string, unknown>, "route"),
  };
}

function consumerProblems(split: {
  body: Record<string, unknown>;
  secrets: Record<string, string>;
}) {
  const merged = mergeSecrets(split.body, split.secrets);
  return {
    consumer: check("consumer.json", merged),
    plugins: checkPlugins(merged.plugins as Record<string, unknown>, "consumer"),
  };
}

describe("managedLabels", () => {
  it("marks the object as managed by the stack", () => {
    expect(managedLabels("hack-2026")).toEqual({
      "managed-by": "ai-gateway",
      "ai-gateway-stack": "hack-2026",
    });
  });

  it("replaces white space in the stack name, which label values may not hold", () => {
    expect(managedLabels("spring  hack\t2026")["ai-gateway-stack"]).toBe("spring_hack_2026");
  });
});

describe("instanceNames", () => {
  it("uses the bare kind for a single server", () => {
    expect(instanceNames("chat", 1)).toEqual(["chat"]);
  });

  it("numbers the instances from 1 for several servers", () => {
    expect(instanceNames("embeddings", 3)).toEqual([
      "embeddings-1",
      "embeddings-2",
      "embeddings-3",
    ]);
  });
});

describe("openAiErrorRewrite", () => {
  const rewrite = openAiErrorRewrite() as {
    vars: unknown;
    headers: unknown;
    filters: { regex: string; replace: string; scope: string }[];
  };
  /** Applies the filter the way APISIX's ngx.re.sub does for scope "once". */
  const apply = (body: string) => {
    const [filter] = rewrite.filters;
    return body.replace(new RegExp(filter.regex), filter.replace);
  };

  it("applies only to error statuses and answers JSON", () => {
    expect(rewrite.vars).toEqual([["status", ">=", 400]]);
    expect(rewrite.headers).toEqual({ set: { "Content-Type": "application/json" } });
    expect(rewrite.filters).toHaveLength(1);
    expect(rewrite.filters[0].scope).toBe("once");
  });

  it("rewrites the rate limiter's error_msg body into an OpenAI error", () => {
    expect(apply(`{"error_msg":"${quotaExceededMessage}"}\n`)).toBe(
      '{"error":{"message":"token quota exceeded","type":"gateway_error"}}',
    );
  });

  it("rewrites key-auth's message body into an OpenAI error", () => {
    expect(apply('{"message":"Invalid API key in request"}')).toBe(
      '{"error":{"message":"Invalid API key in request","type":"gateway_error"}}',
    );
  });

  it("leaves an error that is already in OpenAI shape unchanged", () => {
    const body = '{"error":{"message":"model not loaded","type":"invalid_request_error"}}';

    expect(apply(body)).toBe(body);
  });

  it("leaves a body with more fields unchanged", () => {
    const body = '{"message":"busy","retry":5}';

    expect(apply(body)).toBe(body);
  });
});

describe("buildChatRoute", () => {
  it("builds the whole route for one server without an LLM key", () => {
    expect(buildChatRoute(settingsFor())).toEqual({
      body: {
        uri: "/v1/chat/completions",
        methods: ["POST"],
        labels: { "managed-by": "ai-gateway", "ai-gateway-stack": "dev" },
        plugins: {
          "key-auth": { header: "Authorization", hide_credentials: true },
          "ai-proxy-multi": {
            instances: [
              {
                name: "chat",
                provider: "openai-compatible",
                weight: 1,
                priority: 0,
                auth: {},
                override: { endpoint: "http://127.0.0.1:13305/v1/chat/completions" },
                options: { model: "user.gemma-4-31b-it" },
              },
            ],
            timeout: 600_000,
          },
          "response-rewrite": openAiErrorRewrite(),
        },
      },
      secrets: {},
    });
  });

  it("gives every server an instance with its weight, priority and endpoint", () => {
    const route = buildChatRoute(
      settingsFor({
        lemonadeServers: twoServers,
        lemonadeApiPath: "/api/v1",
        llmTimeoutMs: 45_000,
      }),
    );
    const proxy = (route.body.plugins as Record<string, { instances: unknown[]; timeout: number }>)[
      "ai-proxy-multi"
    ];

    expect(proxy.timeout).toBe(45_000);
    expect(proxy.instances).toEqual([
      {
        name: "chat-1",
        provider: "openai-compatible",
        weight: 3,
        priority: 1,
        auth: {},
        override: { endpoint: "http://llm-a:13305/api/v1/chat/completions" },
        options: { model: "user.gemma-4-31b-it" },
      },
      {
        name: "chat-2",
        provider: "openai-compatible",
        weight: 0,
        priority: 0,
        auth: {},
        override: { endpoint: "https://llm-b.example.org/api/v1/chat/completions" },
        options: { model: "user.gemma-4-31b-it" },
      },
    ]);
  });

  it("keeps the LLM key out of the body and lists it once per instance as a secret", () => {
    const route = buildChatRoute(
      settingsFor({ lemonadeServers: twoServers, lemonadeApiKey: "Bearer llm-key" }),
    );
    const proxy = (route.body.plugins as Record<string, { instances: { auth: unknown }[] }>)[
      "ai-proxy-multi"
    ];

    expect(proxy.instances.map((instance) => instance.auth)).toEqual([
      { header: {} },
      { header: {} },
    ]);
    expect(JSON.stringify(route.body)).not.toContain("llm-key");
    expect(route.secrets).toEqual({
      "plugins.ai-proxy-multi.instances.0.auth.header.Authorization": "Bearer llm-key",
      "plugins.ai-proxy-multi.instances.1.auth.header.Authorization": "Bearer llm-key",
    });
  });

  it("writes the LLM key as the Authorization header once secrets are merged", () => {
    const route = buildChatRoute(settingsFor({ lemonadeApiKey: "Bearer llm-key" }));
    const merged = mergeSecrets(route.body, route.secrets) as {
      plugins: { "ai-proxy-multi": { instances: { auth: unknown }[] } };
    };

    expect(merged.plugins["ai-proxy-multi"].instances[0].auth).toEqual({
      header: { Authorization: "Bearer llm-key" },
    });
  });

  it("labels the route with a white-space-free stack name", () => {
    expect(buildChatRoute(settingsFor({ stack: "spring hack" })).body.labels).toEqual({
      "managed-by": "ai-gateway",
      "ai-gateway-stack": "spring_hack",
    });
  });

  it.each([
    ["one server without a key", {}],
    ["several servers with a key", { lemonadeServers: twoServers, lemonadeApiKey: "Bearer abc" }],
    ["a spaced stack name", { stack: "spring hack" }],
  ])("passes APISIX's route schemas with %s", (_label, overrides) => {
    expect(routeProblems(buildChatRoute(settingsFor(overrides)), routeIds.chat)).toEqual({
      route: null,
      plugins: null,
    });
  });
});

describe("buildEmbeddingsRoute", () => {
  const instancesOf = (route: { body: Record<string, unknown> }) =>
    (route.body.plugins as Record<string, { instances: Record<string, unknown>[] }>)[
      "ai-proxy-multi"
    ].instances;

  it("sends embeddings to each server's embeddings endpoint with the embedding model", () => {
    const route = buildEmbeddingsRoute(
      settingsFor({ lemonadeServers: twoServers, embeddingModel: "nomic-embed" }),
    );

    expect(route.body.uri).toBe("/v1/embeddings");
    expect(route.body.methods).toEqual(["POST"]);
    expect(instancesOf(route)).toEqual([
      {
        name: "embeddings-1",
        provider: "openai-compatible",
        weight: 3,
        priority: 1,
        auth: {},
        override: { endpoint: "http://llm-a:13305/v1/embeddings" },
        options: { model: "nomic-embed" },
      },
      {
        name: "embeddings-2",
        provider: "openai-compatible",
        weight: 0,
        priority: 0,
        auth: {},
        override: { endpoint: "https://llm-b.example.org/v1/embeddings" },
        options: { model: "nomic-embed" },
      },
    ]);
  });

  it("has the same key-auth, error rewrite and labels as the chat route", () => {
    const settings = settingsFor();
    const chat = buildChatRoute(settings).body.plugins as Record<string, unknown>;
    const embeddings = buildEmbeddingsRoute(settings).body.plugins as Record<string, unknown>;

    expect(embeddings["key-auth"]).toEqual(chat["key-auth"]);
    expect(embeddings["response-rewrite"]).toEqual(chat["response-rewrite"]);
    expect(buildEmbeddingsRoute(settings).body.labels).toEqual(managedLabels("dev"));
  });

  it("takes the chat instance names when the quota is shared", () => {
    const settings = settingsFor({ lemonadeServers: twoServers, embeddingQuota: "shared" });
    const chatNames = instancesOf(buildChatRoute(settings)).map((i) => i.name);

    expect(instancesOf(buildEmbeddingsRoute(settings)).map((i) => i.name)).toEqual(chatNames);
    expect(chatNames).toEqual(["chat-1", "chat-2"]);
  });

  it("takes the bare chat name for one server when the quota is shared", () => {
    const route = buildEmbeddingsRoute(settingsFor({ embeddingQuota: "shared" }));

    expect(instancesOf(route).map((i) => i.name)).toEqual(["chat"]);
  });

  it("lists the LLM key as a secret of every instance", () => {
    const route = buildEmbeddingsRoute(
      settingsFor({ lemonadeServers: twoServers, lemonadeApiKey: "Bearer abc" }),
    );

    expect(route.secrets).toEqual({
      "plugins.ai-proxy-multi.instances.0.auth.header.Authorization": "Bearer abc",
      "plugins.ai-proxy-multi.instances.1.auth.header.Authorization": "Bearer abc",
    });
  });

  it.each([
    ["separate quota and one server", {}],
    [
      "shared quota, several servers and a key",
      {
        embeddingQuota: "shared" as const,
        lemonadeServers: twoServers,
        lemonadeApiKey: "Bearer abc",
      },
    ],
  ])("passes APISIX's route schemas with %s", (_label, overrides) => {
    expect(
      routeProblems(buildEmbeddingsRoute(settingsFor(overrides)), routeIds.embeddings),
    ).toEqual({
      route: null,
      plugins: null,
    });
  });
});

describe("buildConsumer", () => {
  const limiting = (body: Record<string, unknown>) =>
    (body.plugins as Record<string, Record<string, unknown>>)["ai-rate-limiting"];

  it("builds a local token budget for chat and embeddings with one server", () => {
    const settings = settingsFor({ embeddingRateLimitTokens: 120, rateLimitWindow: 3600 });

    expect(buildConsumer(consumerFor(settings), settings)).toEqual({
      body: {
        username: "alpha-alice",
        labels: { "managed-by": "ai-gateway", "ai-gateway-stack": "dev", group: "alpha" },
        plugins: {
          "ai-rate-limiting": {
            limit_strategy: "total_tokens",
            instances: [
              { name: "chat", limit: 500, time_window: 3600 },
              { name: "embeddings", limit: 120, time_window: 3600 },
            ],
            rejected_code: 429,
            rejected_msg: "token quota exceeded",
            policy: "local",
          },
        },
      },
      secrets: {},
    });
  });

  it("budgets every server's chat and embeddings instance", () => {
    const settings = settingsFor({ lemonadeServers: twoServers, embeddingRateLimitTokens: 70 });
    const body = buildConsumer(consumerFor(settings), settings).body;

    expect(limiting(body).instances).toEqual([
      { name: "chat-1", limit: 500, time_window: 60 },
      { name: "chat-2", limit: 500, time_window: 60 },
      { name: "embeddings-1", limit: 70, time_window: 60 },
      { name: "embeddings-2", limit: 70, time_window: 60 },
    ]);
  });

  it("budgets only chat instances when the embedding quota is shared", () => {
    const settings = settingsFor({ lemonadeServers: twoServers, embeddingQuota: "shared" });
    const body = buildConsumer(consumerFor(settings), settings).body;

    expect(limiting(body).instances).toEqual([
      { name: "chat-1", limit: 500, time_window: 60 },
      { name: "chat-2", limit: 500, time_window: 60 },
    ]);
  });

  it("budgets only chat instances when embeddings are off", () => {
    const settings = settingsFor({ embedding: false });
    const body = buildConsumer(consumerFor(settings), settings).body;

    expect(limiting(body).instances).toEqual([{ name: "chat", limit: 500, time_window: 60 }]);
  });

  it("uses the pooled limits of a per-group consumer", () => {
    const settings = settingsFor({ mode: "per-group", embeddingRateLimitTokens: 40 });
    const consumer = consumerFor(
      settings,
      "groups:\n  red team:\n    users: [a, {name: b, rateLimitTokens: 100}]",
    );
    const body = buildConsumer(consumer, settings).body;

    expect(body.username).toBe("group-red_team");
    expect(body.labels).toEqual({
      "managed-by": "ai-gateway",
      "ai-gateway-stack": "dev",
      group: "red_team",
    });
    expect(limiting(body).instances).toEqual([
      { name: "chat", limit: 600, time_window: 60 },
      { name: "embeddings", limit: 80, time_window: 60 },
    ]);
  });

  it("uses redis with the password as a secret when redis is set", () => {
    const settings = settingsFor({ redis });
    const split = buildConsumer(consumerFor(settings), settings);

    expect(limiting(split.body)).toMatchObject({
      policy: "redis",
      redis_host: "redis.internal",
      redis_port: 6380,
    });
    expect(limiting(split.body)).not.toHaveProperty("redis_password");
    expect(split.secrets).toEqual({ "plugins.ai-rate-limiting.redis_password": "redis-pw" });
  });

  it("has no secrets when redis has no password", () => {
    const settings = settingsFor({ redis: { host: "redis.internal", port: 6379 } });
    const split = buildConsumer(consumerFor(settings), settings);

    expect(limiting(split.body)).toMatchObject({
      policy: "redis",
      redis_host: "redis.internal",
      redis_port: 6379,
    });
    expect(split.secrets).toEqual({});
  });

  it("leaves the redis fields out with the local policy", () => {
    const settings = settingsFor();
    const fields = Object.keys(limiting(buildConsumer(consumerFor(settings), settings).body));

    expect(fields).toEqual([
      "limit_strategy",
      "instances",
      "rejected_code",
      "rejected_msg",
      "policy",
    ]);
  });

  it.each([
    ["a local policy", {}],
    ["redis and several servers", { redis, lemonadeServers: twoServers }],
    ["a shared embedding quota", { embeddingQuota: "shared" as const }],
    ["embeddings off", { embedding: false }],
  ])("passes APISIX's consumer schemas with %s", (_label, overrides) => {
    const settings = settingsFor(overrides);

    expect(consumerProblems(buildConsumer(consumerFor(settings), settings))).toEqual({
      consumer: null,
      plugins: null,
    });
  });

  it("passes APISIX's consumer schemas for a per-group consumer", () => {
    const settings = settingsFor({ mode: "per-group", redis });
    const consumer: PlannedConsumer = consumerFor(
      settings,
      "groups:\n  red team:\n    users: [a, b]",
    );

    expect(consumerProblems(buildConsumer(consumer, settings))).toEqual({
      consumer: null,
      plugins: null,
    });
  });
});

describe("buildCredential", () => {
  const settings = settingsFor({ mode: "per-group", groupKeys: "per-user", stack: "spring hack" });
  const credential = consumerFor(settings).credentials[0];

  it("holds an empty key-auth and keeps the key as a secret", () => {
    expect(buildCredential(settings, "Bearer sk-123")).toEqual({
      body: {
        labels: { "managed-by": "ai-gateway", "ai-gateway-stack": "spring_hack" },
        plugins: { "key-auth": {} },
      },
      secrets: { "plugins.key-auth.key": "Bearer sk-123" },
    });
  });

  it("carries the key in whatever secret type it is given", () => {
    const key = { secret: "Bearer sk-123" };

    expect(buildCredential(settings, key).secrets["plugins.key-auth.key"]).toBe(key);
  });

  it("passes APISIX's credential schemas once the key is merged", () => {
    const split = buildCredential(settings, "Bearer sk-123");
    const merged = mergeSecrets(split.body, split.secrets);

    expect(check("credential.json", { ...merged, id: credential.id })).toBeNull();
    expect(checkPlugins(merged.plugins as Record<string, unknown>, "consumer")).toBeNull();
  });
});
