#!/usr/bin/env bash
# `npm run build:ts`. Compiles the facade twice: ESM into dist/ (what `import` and the CLI use) and CommonJS into
# dist/cjs/ (what `require` uses). Both load the one generated binding loader in dist/native/.
set -euo pipefail
cd "$(dirname "$0")/.."
tsc=node_modules/typescript/bin/tsc
rm -rf dist
"$tsc" -p tsconfig.json
"$tsc" -p src/tsconfig.cjs.json
chmod +x dist/cli.js
mkdir -p dist/native dist/cjs/native
cp src/native/binding.cjs src/native/binding.d.cts src/native/require.cjs src/native/require.d.cts dist/native/
cp src/native/*.node dist/native/ 2>/dev/null || true
echo '{ "type": "commonjs" }' > dist/cjs/package.json
# dist/cjs/backend.js requires ./native/require.cjs: point it at the shared one, so a process that
# imports and requires ipckit still loads the binding once.
echo 'module.exports = require("../../native/require.cjs");' > dist/cjs/native/require.cjs
cp src/native/binding.d.cts src/native/require.d.cts dist/cjs/native/
