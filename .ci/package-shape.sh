#!/usr/bin/env bash
# The packed root package, checked as consumers see it: publint (files, exports, formats) and
# @arethetypeswrong/cli (types resolve for ESM and CJS consumers under node10, node16 and bundler).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d "${TMPDIR:-/tmp}/ipckit-shape.XXXXXX")
trap 'rm -rf "$out"' EXIT
npm pack --ignore-scripts --silent --pack-destination "$out" >/dev/null
tgz=$(ls "$out"/ipckit-*.tgz)
node_modules/.bin/publint run --strict "$tgz"
node_modules/.bin/attw --format table-flipped "$tgz"
