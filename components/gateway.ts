import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PlannedConsumer, PlannedCredential, slugify } from "../config/plan";
import { GatewaySettings } from "../config/settings";
import { ApiKey } from "../providers/api-key";
import { ApisixObject } from "../providers/apisix-object";
import { LocalFile } from "../providers/local-file";
import {
  buildChatRoute,
  buildConsumer,
  buildCredential,
  buildEmbeddingsRoute,
  managedLabels,
  routeIds,
  SplitBody,
} from "./apisix-bodies";
import { buildKiloConfig } from "./kilo";

type Secret = pulumi.Output<string>;

/** Arguments of the Gateway component. */
export interface GatewayArgs {
  /** Validated stack settings; secrets as Outputs. */
  readonly settings: GatewaySettings<Secret>;
  /** Consumers and credentials planned from groups.yaml. */
  readonly consumers: PlannedConsumer[];
  /** Admin API URL; defaults to settings.adminUrl. */
  readonly adminUrl?: pulumi.Input<string>;
  /** Admin API key; defaults to settings.adminKey. */
  readonly adminKey?: pulumi.Input<string>;
  /** Resources every gateway object waits for and outlives on destroy; default none. */
  readonly after?: pulumi.Resource[];
}

/** One consumer's line in the stack output summary; holds no keys. */
export interface ConsumerSummary {
  name: string;
  group: string;
  users: string[];
  limit: number;
  embeddingLimit?: number;
  window: number;
}

/**
 * The gateway's objects on APISIX (two routes, a consumer per quota holder, a credential per
 * key) and a kilo.json per participant, written under settings.kiloDir.
 */
export class Gateway extends pulumi.ComponentResource {
  /** Endpoint URLs participants call. */
  public readonly endpoints: Record<string, string>;
  /** Consumers with their quotas. */
  public readonly consumers: ConsumerSummary[];
  /** kilo.json content per `<group>/<user>`; a secret. */
  public readonly kiloConfigs: pulumi.Output<Record<string, object>>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:gateway:Gateway", name, {}, opts);
    const settings = withBearerUpstreamKey(args.settings);
    const connection = {
      adminUrl: args.adminUrl ?? settings.adminUrl,
      adminKey: (args.adminKey ?? settings.adminKey) as pulumi.Input<string>,
      owner: managedLabels(settings.stack),
    };
    // Every child depends on the provisioned services, so the engine creates gateway objects
    // after the services and deletes them before it stops them.
    const after = args.after ?? [];
    const childOpts = (...more: pulumi.Resource[]) => ({
      parent: this,
      dependsOn: [...after, ...more],
    });
    const apisix = (
      type: "Route" | "Consumer" | "Credential",
      resourceName: string,
      apiPath: string,
      split: SplitBody<pulumi.Input<string>>,
      ...more: pulumi.Resource[]
    ) =>
      new ApisixObject(
        type,
        resourceName,
        apiPath,
        { ...connection, ...split },
        childOpts(...more),
      );

    apisix("Route", `route-${routeIds.chat}`, `routes/${routeIds.chat}`, buildChatRoute(settings));
    if (settings.embedding) {
      const embeddings = buildEmbeddingsRoute(settings);
      apisix("Route", `route-${routeIds.embeddings}`, `routes/${routeIds.embeddings}`, embeddings);
    }

    const kiloConfigs: Record<string, pulumi.Output<object>> = {};
    for (const consumer of args.consumers) {
      const consumerPath = `consumers/${consumer.username}`;
      const holder = apisix(
        "Consumer",
        `consumer-${consumer.username}`,
        consumerPath,
        buildConsumer(consumer, settings),
      );
      for (const credential of consumer.credentials) {
        const key = this.createKey(credential);
        const bearer = pulumi.interpolate`Bearer ${key.value}`;
        const credentialPath = `${consumerPath}/credentials/${credential.id}`;
        const split = buildCredential(settings, bearer);
        const holds = apisix(
          "Credential",
          `credential-${credential.id}`,
          credentialPath,
          split,
          holder,
        );
        for (const user of credential.users) {
          const config = key.value.apply((value) => buildKiloConfig(settings, value));
          kiloConfigs[`${user.group}/${user.name}`] = config;
          new LocalFile(
            `kilo-${slugify(user.group)}-${user.slug}`,
            {
              path: path.join(settings.kiloDir, slugify(user.group), user.slug, "kilo.json"),
              root: settings.kiloDir,
              content: config.apply((c) => `${JSON.stringify(c, null, 2)}\n`),
            },
            // Written only once the key works on the gateway.
            childOpts(holds),
          );
        }
      }
    }

    const base = `http://${settings.externalIp}:${settings.proxyPort}`;
    this.endpoints = { chat: `${base}/v1/chat/completions` };
    if (settings.embedding) this.endpoints.embeddings = `${base}/v1/embeddings`;
    this.consumers = args.consumers.map((consumer) => summarize(consumer, settings));
    this.kiloConfigs = pulumi.secret(pulumi.all(kiloConfigs));

    this.registerOutputs({
      endpoints: this.endpoints,
      consumers: this.consumers,
      kiloConfigs: this.kiloConfigs,
    });
  }

  private createKey(credential: PlannedCredential): ApiKey {
    return new ApiKey(`key-${credential.id}`, credential.rotation, { parent: this });
  }
}

/**
 * The route builders put lemonadeApiKey into the upstream Authorization header as is; LLM servers
 * expect `Bearer <key>`, so add the scheme unless the organiser already wrote it.
 */
function withBearerUpstreamKey(settings: GatewaySettings<Secret>): GatewaySettings<Secret> {
  const key = settings.lemonadeApiKey;
  if (key === undefined) return settings;
  const header = key.apply((value) => (/^Bearer\s/i.test(value) ? value : `Bearer ${value}`));
  return { ...settings, lemonadeApiKey: pulumi.secret(header) };
}

function summarize(consumer: PlannedConsumer, settings: GatewaySettings<Secret>): ConsumerSummary {
  const separate = settings.embedding && settings.embeddingQuota === "separate";
  return {
    name: consumer.username,
    group: consumer.group,
    users: consumer.users.map((user) => user.name),
    limit: consumer.limit,
    ...(separate ? { embeddingLimit: consumer.embeddingLimit } : {}),
    window: consumer.window,
  };
}
