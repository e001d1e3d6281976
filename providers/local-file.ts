import * as pulumi from "@pulumi/pulumi";

/** State of a file the stack writes on the machine that runs Pulumi. */
export interface LocalFileState {
  /** Path relative to the program directory (or absolute). */
  path: string;
  /** Folder below which empty parent folders are removed on delete. */
  root: string;
  /** File content; a Pulumi secret. */
  content: string;
}

function write(state: LocalFileState): void {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  fs.mkdirSync(path.dirname(state.path), { recursive: true, mode: 0o700 });
  // Write to a private temporary file and rename it, so the secret is never readable by others,
  // not even for a moment, and a crash never leaves half a file.
  const temporary = `${state.path}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, state.content, { mode: 0o600 });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, state.path);
}

/** Writes, rewrites and removes a local file whose content is secret (mode 0600). */
export const localFileProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: LocalFileState, news: LocalFileState) {
    if (olds.path !== news.path)
      return { changes: true, replaces: ["path"], deleteBeforeReplace: true };
    return { changes: olds.content !== news.content || olds.root !== news.root };
  },

  async create(inputs: LocalFileState) {
    write(inputs);
    return { id: inputs.path, outs: inputs };
  },

  async read(id, props: LocalFileState) {
    const fs: typeof import("node:fs") = require("node:fs");
    if (!fs.existsSync(props.path)) return {};
    const state = { ...props, content: fs.readFileSync(props.path, "utf8") };
    return { id, props: state, inputs: state };
  },

  async update(_id, _olds, news: LocalFileState) {
    write(news);
    return { outs: news };
  },

  async delete(_id, props: LocalFileState) {
    const fs: typeof import("node:fs") = require("node:fs");
    const path: typeof import("node:path") = require("node:path");
    fs.rmSync(props.path, { force: true });
    const root = path.resolve(props.root);
    let folder = path.dirname(path.resolve(props.path));
    while (folder === root || folder.startsWith(root + path.sep)) {
      if (fs.existsSync(folder)) {
        if (fs.readdirSync(folder).length > 0) break;
        fs.rmdirSync(folder);
      }
      folder = path.dirname(folder);
    }
  },
};

/** A local file with secret content, created, updated and deleted with the stack. */
export class LocalFile extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { path: string; root: string; content: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    const inputs = { path: args.path, root: args.root, content: pulumi.secret(args.content) };
    super(localFileProvider, name, inputs, opts, "gateway", "LocalFile");
  }
}
