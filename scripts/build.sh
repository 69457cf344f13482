#!/usr/bin/env bash
# Usage: scripts/build.sh [lambda|fc|all] [function ...]
# Builds every function (or those named) for AWS Lambda (dist/lambda/<fn>.zip,
# linux/arm64 bootstrap) and Function Compute (dist/fc/<fn>.zip, linux/amd64
# main), static and stripped, and prints each binary's and zip's size.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/build -platform "${1:-all}" "${@:2}"
