import * as pulumi from "@pulumi/pulumi";
import { AdminConnection, adminRequest } from "./admin-client";
import { jsonEqual, mergeSecrets, splitSecrets } from "./body";

/**
 * State of one APISIX object (route, consumer or credential) as the provider sees it. Inputs
 * and outputs are the same record, so `diff` and `delete` have everything they need.
 */
export interface ApisixObjectInputs {
  /** Admin API path below /apisix/admin, e.g. `routes/ai-chat`; also the resource id. */
  path: string;
  /** Admin API base URL, e.g. http://127.0.0.1:9180. */
  adminUrl: string;
  /** Admin API key; a Pulumi secret. */
  adminKey: string;
  /** The body without secrets. */
  body: Record<string, unknown>;
  /** Secret values by dotted path inside the body; a Pulumi secret. */
  secrets: Record<string, string>;
  /** Labels that mark an object as this stack's; objects without them are never changed. */
  owner: Record<string, string>;
}

/** Admin API paths this provider may manage. */
const pathPattern =
  /^(routes\/[a-zA-Z0-9._-]{1,64}|consumers\/[a-zA-Z0-9_-]{1,256}(\/credentials\/[a-zA-Z0-9._-]{1,64})?)$/;

function connectionOf(state: ApisixObjectInputs): AdminConnection {
  return { url: state.adminUrl, key: state.adminKey };
}

/** True when the stored object carries every owner label of this stack. */
function isOwned(value: unknown, owner: Record<string, string>): boolean {
  const labels = (value as { labels?: Record<string, string> } | undefined)?.labels ?? {};
  return Object.entries(owner).every(([key, wanted]) => labels[key] === wanted);
}

/** GETs the object; undefined when APISIX answers 404. */
async function fetchValue(state: ApisixObjectInputs): Promise<Record<string, unknown> | undefined> {
  const response = await adminRequest(connectionOf(state), "GET", state.path, undefined, [404]);
  if (response.status === 404) return undefined;
  return (response.data as { value: Record<string, unknown> }).value;
}

async function put(state: ApisixObjectInputs): Promise<void> {
  const body = mergeSecrets(state.body, state.secrets);
  await adminRequest(connectionOf(state), "PUT", state.path, body);
}

/**
 * Dynamic provider for APISIX objects over the Admin API. Creates refuse to overwrite an object
 * the stack does not own; deletes leave such objects alone and treat 404 as already gone.
 */
export const apisixObjectProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof news.path !== "string" || !pathPattern.test(news.path)) {
      failures.push({
        property: "path",
        reason: `"${news.path}" is no route, consumer or credential path`,
      });
    }
    if (typeof news.adminUrl !== "string" || !/^https?:\/\//.test(news.adminUrl)) {
      failures.push({ property: "adminUrl", reason: "must be an http:// or https:// URL" });
    }
    return { inputs: news, failures };
  },

  async diff(_id, olds: ApisixObjectInputs, news: ApisixObjectInputs) {
    if (olds.path !== news.path) {
      // A new path is a different object; deleting the old one first keeps key-auth keys unique.
      return { changes: true, replaces: ["path"], deleteBeforeReplace: true };
    }
    const fields = ["body", "secrets", "owner", "adminUrl", "adminKey"] as const;
    const changed = fields.filter((field) => !jsonEqual(olds[field], news[field]));
    return { changes: changed.length > 0 };
  },

  async create(inputs: ApisixObjectInputs) {
    const existing = await fetchValue(inputs);
    if (existing && !isOwned(existing, inputs.owner)) {
      throw new Error(
        `APISIX object /apisix/admin/${inputs.path} already exists and was not created by this stack; rename the group or user, or remove that object yourself if it is no longer used.`,
      );
    }
    await put(inputs);
    return { id: inputs.path, outs: inputs };
  },

  async read(id, props: ApisixObjectInputs) {
    const value = await fetchValue(props);
    if (!value) return {};
    const live = splitSecrets(value, Object.keys(props.secrets ?? {}));
    const state = { ...props, body: live.body, secrets: live.secrets };
    return { id, props: state, inputs: state };
  },

  async update(_id, _olds, news: ApisixObjectInputs) {
    await put(news);
    return { outs: news };
  },

  async delete(_id, props: ApisixObjectInputs) {
    const existing = await fetchValue(props);
    if (!existing || !isOwned(existing, props.owner)) return;
    await adminRequest(connectionOf(props), "DELETE", props.path, undefined, [404]);
  },
};

/** Arguments shared by the APISIX resources. */
export interface ApisixObjectArgs {
  adminUrl: pulumi.Input<string>;
  /** Admin API key; wrapped as a secret. */
  adminKey: pulumi.Input<string>;
  body: pulumi.Input<Record<string, unknown>>;
  /** Secret values by dotted path in the body; wrapped as a secret. */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  owner: pulumi.Input<Record<string, string>>;
}

/** One object on the APISIX Admin API. */
export class ApisixObject extends pulumi.dynamic.Resource {
  /** The Admin API path, e.g. `consumers/alpha-alice`. */
  declare public readonly path: pulumi.Output<string>;
  /** The body as last written or read, without secrets. */
  declare public readonly body: pulumi.Output<Record<string, unknown>>;

  constructor(
    type: "Route" | "Consumer" | "Credential",
    name: string,
    path: pulumi.Input<string>,
    args: ApisixObjectArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const inputs = {
      path,
      adminUrl: args.adminUrl,
      adminKey: pulumi.secret(args.adminKey),
      body: args.body,
      secrets: pulumi.secret(args.secrets ?? {}),
      owner: args.owner,
    };
    super(apisixObjectProvider, name, inputs, opts, "apisix", type);
  }
}
