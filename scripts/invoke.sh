#!/usr/bin/env bash
# Usage: scripts/invoke.sh FUNCTION EVENT_FILE [lambda|fc]
# Builds the function for this machine and runs it under aws-lambda-rie (the
# pinned version, go-installed into the user cache on first use) or, with fc, the
# project's Function Compute emulator; invokes it with the event and prints the
# response. HTTP trigger events are re-signed by the .kmsless/invoke workspace's
# principal.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: make invoke FN=<function> EVENT=events/<aws|fc>/<file>.json [PLATFORM=fc]" >&2
  exit 2
fi
exec go run ./scripts/invoke -fn "$1" -event "$2" -platform "${3:-lambda}"
