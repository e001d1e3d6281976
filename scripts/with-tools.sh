#!/usr/bin/env bash
# Runs a command with the project's tools, a supported Node.js and the offline Pulumi settings.
set -euo pipefail
. "$(dirname "$0")/env.sh"
use_tools
exec "$@"
