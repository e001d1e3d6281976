import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config/errors";
import { loadRoster } from "./config/groups";
import { planConsumers } from "./config/plan";
import { GatewaySettings, readSettings } from "./config/settings";
import { Gateway } from "./components/gateway";
import { provisionServices } from "./components/services";

type Secret = pulumi.Output<string>;

/** Keys whose value may be YAML/JSON structure rather than a string. */
const structuredKeys = ["lemonadeUrl", "keyRotation", "services", "allowAdmin"];

/** A structured key's value: parsed when it is JSON, else the plain string. */
function readStructured(config: pulumi.Config, key: string): unknown {
  const text = config.get(key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads stack config and groups.yaml; every problem is reported before any resource exists. */
function loadInputs() {
  const config = new pulumi.Config("ai-gateway");
  const settings: GatewaySettings<Secret> = readSettings<Secret>(
    {
      get: (key) => (structuredKeys.includes(key) ? readStructured(config, key) : config.get(key)),
      getSecret: (key) => config.getSecret(key),
      wrapSecret: (value) => pulumi.secret(value),
    },
    process.env,
    pulumi.getStack(),
  );
  const consumers = settings.enabled
    ? planConsumers(loadRoster(settings.groupsFile), settings)
    : [];
  return { settings, consumers };
}

function main() {
  let inputs: ReturnType<typeof loadInputs>;
  try {
    inputs = loadInputs();
  } catch (error) {
    // A ConfigError already says which file, field and fix; Pulumi prints it without a stack trace.
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
  const { settings, consumers } = inputs;
  const services = settings.provision ? provisionServices(settings.provision, settings) : undefined;
  if (!settings.enabled) {
    pulumi.log.info("ai-gateway:enabled is false: no routes, consumers or kilo.json files.");
    return { endpoints: {}, consumers: [], kilo: pulumi.secret({}) };
  }
  const gateway = new Gateway("gateway", {
    settings: services?.redis ? { ...settings, redis: services.redis } : settings,
    consumers,
    adminUrl: services?.apisix?.adminUrl,
    adminKey: services?.apisix?.adminKey,
    // Gateway objects go before the services on destroy, and after them on up.
    after: services?.all ?? [],
  });
  return { endpoints: gateway.endpoints, consumers: gateway.consumers, kilo: gateway.kiloConfigs };
}

const outputs = main();

/** URLs of the chat and embeddings endpoints. */
export const endpoints = outputs.endpoints;
/** One line per consumer: name, group, users, token limits and window; no keys. */
export const consumers = outputs.consumers;
/** kilo.json per `<group>/<user>`; a secret (read with `pulumi stack output kilo --show-secrets`). */
export const kilo = outputs.kilo;
