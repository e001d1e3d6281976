#!/usr/bin/env bash
# Runs the project's Pulumi CLI offline against the local state folder (or PULUMI_BACKEND_URL).
#   pulumi.sh <args>             any pulumi command
#   pulumi.sh on-stack <command> up|preview|refresh|destroy on the selected stack; the stack
#                                named by PULUMI_STACK, else the one already selected, else `dev`,
#                                is created on first use
set -euo pipefail
. "$(dirname "$0")/env.sh"
use_tools
cd "$ROOT"

if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi is not installed in $TOOLS/bin; run: npm run setup" >&2
  exit 1
fi
if [ "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" = "$PASSPHRASE_FILE" ] && [ ! -f "$PASSPHRASE_FILE" ]; then
  echo "No secrets passphrase at $PASSPHRASE_FILE; run: npm run setup" >&2
  exit 1
fi

if [ "${1:-}" != "on-stack" ]; then
  exec pulumi "$@"
fi
shift
command="${1:?usage: pulumi.sh on-stack up|preview|refresh|destroy [args]}"
shift

stack="${PULUMI_STACK:-}"
if [ -z "$stack" ]; then
  stack="$(pulumi stack --show-name 2>/dev/null || true)"
fi
stack="${stack:-dev}"
if ! pulumi stack select "$stack" >/dev/null 2>&1; then
  echo "Creating stack $stack"
  pulumi stack init "$stack" --secrets-provider passphrase >/dev/null
fi

case "$command" in
  up | refresh | destroy) exec pulumi "$command" --stack "$stack" --yes "$@" ;;
  preview) exec pulumi preview --stack "$stack" "$@" ;;
  *)
    echo "on-stack takes up, preview, refresh or destroy, not: $command" >&2
    exit 2
    ;;
esac
