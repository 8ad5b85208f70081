#!/usr/bin/env bash
# Runs the vitest suite on each runtime, once per backend (native, then IPCKIT_BACKEND=js).
# Usage: test/run-all.sh [node|deno|bun ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=(node deno bun)
config=test/vitest.config.ts
failed=()
for rt in "${runtimes[@]}"; do
  for be in native js; do
    echo "=== $rt, backend $be ==="
    case "$rt" in
      node) cmd=(node node_modules/vitest/vitest.mjs run --config "$config") ;;
      deno) cmd=(node_modules/.bin/deno run -A npm:vitest run --config "$config") ;;
      bun) cmd=(node_modules/.bin/bun --bun node_modules/vitest/vitest.mjs run --config "$config") ;;
      *) echo "unknown runtime $rt" >&2; exit 2 ;;
    esac
    if [ "$be" = js ]; then
      IPCKIT_BACKEND=js "${cmd[@]}" || failed+=("$rt/$be")
    else
      IPCKIT_BACKEND= "${cmd[@]}" || failed+=("$rt/$be")
    fi
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all suites passed: ${runtimes[*]} x native,js"
