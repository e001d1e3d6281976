import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { authPlugins, check, checkPlugins } from "./validate";
import { cjsonMessage, encrypt, mapSecrets } from "./wire";

/** One request the double answered. */
export interface RecordedCall {
  method: string;
  path: string;
  status: number;
}

/** A failure to inject: requests matching `when` get `status` (or a dropped connection). */
export interface InjectedFailure {
  when: (method: string, path: string) => boolean;
  status: number | "drop";
  times: number;
}

interface Stored {
  value: Record<string, unknown>;
  createdIndex: number;
  modifiedIndex: number;
}

type Reply = { status: number; body: unknown };

const notFound: Reply = { status: 404, body: { message: "Key not found" } };
const bad = (message: string): Reply => ({ status: 400, body: { error_msg: message } });

/**
 * A stand-in for APISIX 3.18's Admin API (routes, consumers, credentials) that answers with the
 * statuses and bodies recorded from the real server, validates bodies against the real schemas,
 * checks the admin key, and can inject failures and delays.
 */
export class ApisixDouble {
  readonly calls: RecordedCall[] = [];
  readonly failures: InjectedFailure[] = [];
  /** Milliseconds to wait before answering each request. */
  delayMs = 0;
  private readonly store = new Map<string, Stored>();
  private index = 0;
  private server?: Server;
  private port = 0;

  constructor(readonly adminKey: string) {}

  /** Base URL, e.g. http://127.0.0.1:40123. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening on a free loopback port (or the port it had before a stop). */
  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening; later requests are refused at the socket. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The stored value at `path` (e.g. `consumers/alpha-alice`), secrets in plain text. */
  get(path: string): Record<string, unknown> | undefined {
    return this.store.get(path)?.value;
  }

  /** Paths stored under a prefix such as `consumers/` (credentials included), sorted. */
  paths(prefix = ""): string[] {
    return [...this.store.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  /** Stores an object directly, as if someone else had created it. */
  seed(path: string, value: Record<string, unknown>): void {
    this.store.set(path, { value, createdIndex: ++this.index, modifiedIndex: this.index });
  }

  /** Removes an object directly, as if deleted behind the stack's back. */
  remove(path: string): void {
    this.store.delete(path);
  }

  /** Forgets the recorded calls. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://double");
    const path = decodeURIComponent(url.pathname.replace(/^\/apisix\/admin\/?/, ""));
    const failure = this.failures.find((f) => f.times > 0 && f.when(method, path));
    if (failure) {
      failure.times--;
      if (failure.status === "drop") {
        this.calls.push({ method, path, status: 0 });
        req.socket.destroy();
        return;
      }
    }
    const reply = failure
      ? { status: failure.status as number, body: { error_msg: "injected failure" } }
      : this.answer(req, method, path, url.searchParams, Buffer.concat(chunks).toString("utf8"));
    this.calls.push({ method, path, status: reply.status });
    res.writeHead(reply.status, { "Content-Type": "application/json", "X-API-VERSION": "v3" });
    res.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
  }

  private answer(
    req: IncomingMessage,
    method: string,
    path: string,
    query: URLSearchParams,
    raw: string,
  ): Reply {
    const key = req.headers["x-api-key"];
    if (key === undefined)
      return {
        status: 401,
        body: { error_msg: "failed to check token", description: "missing apikey" },
      };
    if (key !== this.adminKey)
      return {
        status: 401,
        body: { error_msg: "failed to check token", description: "wrong apikey" },
      };
    const segments = path.split("/").filter(Boolean);
    const resource = segments[0];
    if (resource !== "routes" && resource !== "consumers") {
      return { status: 404, body: { error_msg: `Unsupported resource type: ${resource}` } };
    }
    let body: Record<string, unknown> = {};
    if (method === "PUT" || method === "POST" || method === "PATCH") {
      try {
        body = JSON.parse(raw || "{}");
      } catch {
        return {
          status: 400,
          body: { req_body: raw, error_msg: `invalid request body: ${cjsonMessage(raw)}` },
        };
      }
    }
    if (resource === "consumers" && (method === "POST" || method === "PATCH")) {
      return {
        status: 405,
        body: { error_msg: `not supported \`${method}\` method for consumer` },
      };
    }
    if (segments.length === 1 && method === "GET") return this.list(resource, query);
    if (segments[2] === "credentials") return this.credential(method, segments, body);
    if (segments.length === 1 && method === "PUT" && resource === "consumers") {
      return this.putConsumer(String(body.username ?? ""), body);
    }
    const id = segments[1];
    if (method === "GET") return this.getOne(`${resource}/${id}`);
    if (method === "DELETE") return this.delete(`${resource}/${id}`);
    if (method === "PUT")
      return resource === "routes" ? this.putRoute(id, body) : this.putConsumer(id, body, true);
    return { status: 405, body: { error_msg: `not supported \`${method}\` method` } };
  }

  private list(resource: string, query: URLSearchParams): Reply {
    const items = [...this.store.entries()]
      .filter(([key]) => key.startsWith(`${resource}/`) && key.split("/").length === 2)
      .sort((a, b) => a[1].createdIndex - b[1].createdIndex)
      .map(([key, stored]) => this.item(key, stored));
    const page = query.get("page");
    const size = query.get("page_size");
    if (page !== null && size !== null) {
      const pageSize = Number(size);
      if (!(pageSize >= 10 && pageSize <= 500))
        return { status: 400, body: "page_size must be between 10 and 500" };
      const start = (Number(page) - 1) * pageSize;
      return {
        status: 200,
        body: { list: items.slice(start, start + pageSize), total: items.length },
      };
    }
    return { status: 200, body: { list: items, total: items.length } };
  }

  private item(key: string, stored: Stored) {
    return {
      key: `/apisix/${key}`,
      value: stored.value,
      createdIndex: stored.createdIndex,
      modifiedIndex: stored.modifiedIndex,
    };
  }

  private getOne(key: string): Reply {
    const stored = this.store.get(key);
    return stored ? { status: 200, body: this.item(key, stored) } : notFound;
  }

  private delete(key: string): Reply {
    if (!this.store.has(key)) return notFound;
    this.store.delete(key);
    for (const child of this.paths(`${key}/credentials/`)) this.store.delete(child);
    return { status: 200, body: { deleted: "1", key: `/apisix/${key}` } };
  }

  private save(key: string, value: Record<string, unknown>): Reply {
    const previous = this.store.get(key);
    const now = Math.floor(Date.now() / 1000);
    const stored = {
      ...value,
      create_time: (previous?.value.create_time as number | undefined) ?? now,
      update_time: now,
    };
    this.index++;
    this.store.set(key, {
      value: stored,
      createdIndex: previous?.createdIndex ?? this.index,
      modifiedIndex: this.index,
    });
    return {
      status: previous ? 200 : 201,
      body: { key: `/apisix/${key}`, value: mapSecrets(stored, encrypt) },
    };
  }

  private putRoute(id: string, body: Record<string, unknown>): Reply {
    const value = { ...body, id };
    const problem = check("route.json", value);
    if (problem) return bad(`invalid configuration: ${problem}`);
    const plugins = checkPlugins((body.plugins ?? {}) as Record<string, unknown>, "route");
    if (plugins) return bad(plugins);
    return this.save(`routes/${id}`, value);
  }

  private putConsumer(username: string, body: Record<string, unknown>, fromPath = false): Reply {
    if (fromPath && body.username !== username) return bad("wrong username");
    const problem = check("consumer.json", body);
    if (problem) return bad(`invalid configuration: ${problem}`);
    const plugins = checkPlugins((body.plugins ?? {}) as Record<string, unknown>, "consumer");
    if (plugins) return bad(`invalid plugins configuration: ${plugins}`);
    const duplicate = this.keyOwner(body, `consumers/${username}`);
    if (duplicate) return bad(`duplicate key of plugin key-auth found with consumer: ${duplicate}`);
    return this.save(`consumers/${username}`, body);
  }

  private credential(method: string, segments: string[], body: Record<string, unknown>): Reply {
    const consumer = `consumers/${segments[1]}`;
    const id = segments[3] ?? (body.id as string | undefined);
    if (method === "GET" && id === undefined) {
      const items = this.paths(`${consumer}/credentials/`).map((key) =>
        this.item(key, this.store.get(key)!),
      );
      return { status: 200, body: { list: items, total: items.length } };
    }
    const key = `${consumer}/credentials/${id}`;
    if (method === "GET") return this.getOne(key);
    if (method === "DELETE") return this.delete(key);
    if (!this.store.has(consumer))
      return { status: 404, body: { error_msg: "consumer not found" } };
    const value = { ...body, id };
    const problem = check("credential.json", value);
    if (problem) return bad(`invalid configuration: ${problem}`);
    const plugins = (body.plugins ?? {}) as Record<string, unknown>;
    if (Object.keys(plugins).some((name) => !authPlugins.includes(name))) {
      return bad("only supports auth type plugins in consumer credential");
    }
    const invalid = checkPlugins(plugins, "consumer");
    if (invalid) return bad(`invalid plugins configuration: ${invalid}`);
    const duplicate = this.keyOwner(value, key);
    if (duplicate) return bad(`duplicate key of plugin key-auth found with consumer: ${duplicate}`);
    return this.save(key, value);
  }

  /** The consumer that already holds the key-auth key in `value`, other than at `self`. */
  private keyOwner(value: Record<string, unknown>, self: string): string | undefined {
    const wanted = (value.plugins as Record<string, { key?: string }> | undefined)?.["key-auth"]
      ?.key;
    if (wanted === undefined) return undefined;
    for (const [key, stored] of this.store) {
      if (key === self || !key.startsWith("consumers/")) continue;
      const held = (stored.value.plugins as Record<string, { key?: string }> | undefined)?.[
        "key-auth"
      ]?.key;
      if (held === wanted) return key.split("/")[1];
    }
    return undefined;
  }
}
