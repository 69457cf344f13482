#!/usr/bin/env bash
# Cold start and binary size of every function, each against a hello-world Go
# Lambda function (scripts/hello) built the same way and measured in the same
# run: median INIT REPORT duration and first round trip under aws-lambda-rie over
# COLDSTARTS fresh instances, and the linux/arm64 binary's size.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -run '^$' -bench ColdStart -benchtime "${COLDSTARTS:-10}x" ./functions/
