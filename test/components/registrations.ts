import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { expect } from "vitest";

type Callback = Parameters<MockMonitor["registerResource"]>[1];

/** Project name the mocks run under; it is part of every URN. */
export const mockProject = "ai-gateway";

/** Stack name the mocks run under; it is part of every URN. */
export const mockStack = "test";

/** The marker Pulumi's wire format puts on a secret value. */
export const secretSig = "1b47061264138c4ac30d75fd1eb44270";

/** The property of a wire-format object that holds {@link secretSig} when the object is a secret. */
export const sigKey = "4dabf18193072939515e22adb298388d";

/** What the program sent to the resource monitor for one resource, secrets still marked. */
export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  /** URN of the parent; "" for a resource at the top of the stack. */
  parent: string;
  /** URNs the resource depends on, explicit (dependsOn) and through its inputs. */
  dependencies: string[];
  additionalSecretOutputs: string[];
  inputs: Record<string, unknown>;
}

/**
 * Output state a mocked resource adds to its inputs, chosen by type token and resource name;
 * undefined adds nothing. Used for values a real provider would compute, such as a key.
 */
export type MockOutputs = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
) => Record<string, unknown> | undefined;

/** Options of {@link resetMocks}. */
export interface MockOptions {
  /** Extra output state per resource; default: every resource returns its inputs only. */
  outputs?: MockOutputs;
}

/** The value a mocked ApiKey returns as `value`, so a test can look for it. */
export function mockKey(name: string): string {
  return `mock-key-for-${name}-0123456789abcdef0123456789`;
}

/** {@link MockOutputs} that give every `gateway:ApiKey` the value {@link mockKey} names. */
export const apiKeyOutputs: MockOutputs = (type, name) =>
  type === "pulumi-nodejs:dynamic/gateway:ApiKey" ? { value: mockKey(name) } : undefined;

let registrations: Registration[] = [];
let inFlight = 0;

/**
 * Points Pulumi at fresh mocks and records every registration as the monitor receives it, in a
 * new list that it returns. The mock's own newResource sees inputs with secrets already
 * unwrapped, so the request is read by wrapping the monitor's registerResource instead.
 */
export async function resetMocks(options: MockOptions = {}): Promise<Registration[]> {
  const list: Registration[] = [];
  registrations = list;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const extra = options.outputs?.(args.type, args.name, args.inputs);
        return { id: `${args.name}-id`, state: extra ? { ...args.inputs, ...extra } : args.inputs };
      },
      call: (args) => args.inputs,
    },
    mockProject,
    mockStack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req: RegisterResourceRequest, callback: Callback) => {
    list.push({
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      inputs: req.getObject()?.toJavaScript() ?? {},
    });
    inFlight++;
    try {
      await register(req, callback);
    } finally {
      inFlight--;
    }
  };
  return list;
}

/** Waits until no registration is in flight and none has started for a while. */
export async function settled(): Promise<void> {
  let seen = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    quiet = inFlight === 0 && registrations.length === seen ? quiet + 1 : 0;
    seen = registrations.length;
  }
}

/** The one registration with this name; the calling test fails when there are none or several. */
export function findRegistration(list: Registration[], name: string): Registration {
  const found = list.filter((registration) => registration.name === name);
  expect(found, `registrations named ${name}`).toHaveLength(1);
  return found[0];
}

/** True when a recorded input value carries the secret marker. */
export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as never)[sigKey] === secretSig;
}

/** The value inside a secret marker; any other value as it is. */
export function unwrap(value: unknown): unknown {
  return isSecret(value) ? (value as { value: unknown }).value : value;
}

/** The value with every secret marker removed, at any depth. */
export function reveal(value: unknown): unknown {
  const plain = unwrap(value);
  if (Array.isArray(plain)) return plain.map(reveal);
  if (typeof plain !== "object" || plain === null) return plain;
  return Object.fromEntries(Object.entries(plain).map(([key, inner]) => [key, reveal(inner)]));
}

/** The URN the mocks give a registration, built from its parent's type chain and its name. */
export function urnOf(registration: Registration): string {
  const parentType = registration.parent ? registration.parent.split("::")[2] + "$" : "";
  const qualifiedType = `${parentType}${registration.type}`;
  return `urn:pulumi:${mockStack}::${mockProject}::${qualifiedType}::${registration.name}`;
}
