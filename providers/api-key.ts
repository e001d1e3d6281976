import * as pulumi from "@pulumi/pulumi";

/** State of a generated API key. */
export interface ApiKeyState {
  /** Bumping this number replaces the key; see ai-gateway:keyRotation. */
  rotation: number;
  /** The key: 32 random bytes, base64url; a Pulumi secret. */
  value?: string;
}

/**
 * Generates a random key once and keeps it in state, so later runs hand out the same key; a new
 * `rotation` number is the only thing that replaces it.
 */
export const apiKeyProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: ApiKeyState, news: ApiKeyState) {
    const rotated = olds.rotation !== news.rotation;
    return { changes: rotated, replaces: rotated ? ["rotation"] : [] };
  },

  async create(inputs: ApiKeyState) {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const value = crypto.randomBytes(32).toString("base64url");
    return { id: crypto.randomUUID(), outs: { rotation: inputs.rotation, value } };
  },
};

/** A participant's or group's gateway key. */
export class ApiKey extends pulumi.dynamic.Resource {
  /** The key; a Pulumi secret. */
  declare public readonly value: pulumi.Output<string>;

  constructor(name: string, rotation: pulumi.Input<number>, opts?: pulumi.CustomResourceOptions) {
    super(
      apiKeyProvider,
      name,
      { rotation, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      "gateway",
      "ApiKey",
    );
  }
}
