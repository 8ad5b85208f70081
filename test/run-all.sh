#!/usr/bin/env bash
# Runs the vitest suite on each runtime, once per backend (native, then IPCKIT_BACKEND=js).
# Usage: test/run-all.sh [node|deno|bun ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=(node deno bun)
config=test/vitest.config.ts
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for rt in "${runtimes[@]}"; do
  for be in native js; do
    echo "=== $rt, backend $be ==="
    case "$rt" in
      node) cmd=(node node_modules/vitest/vitest.mjs run --config "$config") ;;
      deno) cmd=(node_modules/.bin/deno run -A npm:vitest run --config "$config") ;;
      bun) cmd=(node_modules/.bin/bun --bun node_modules/vitest/vitest.mjs run --config "$config") ;;
      *) echo "unknown runtime $rt" >&2; exit 2 ;;
    esac
    backend_env=""
    [ "$be" = js ] && backend_env=js
    set +e
    IPCKIT_BACKEND=$backend_env "${cmd[@]}" 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || failed+=("$rt/$be")
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
else
  echo "all suites passed: ${runtimes[*]} x native,js"
fi
# One closing line for all runs, in the plain "N passed, N failed" form CI reads.
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -v runs_failed="${#failed[@]}" '
  /^ *Tests  / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { if (f == 0 && runs_failed > 0) f = runs_failed; printf "ipckit: %d passed, %d failed\n", p, f }'
[ ${#failed[@]} -eq 0 ]
