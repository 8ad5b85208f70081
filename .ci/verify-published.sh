#!/usr/bin/env bash
# After publishing: the registry's ipckit@<version> must list every platform package as an
# optional dependency at the same version, and each of those must exist with its binary.
# Usage: .ci/verify-published.sh [version]   (retries while the registry catches up)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(node -p 'require("./package.json").version')}
expected=$(find npm -mindepth 1 -maxdepth 1 -type d -printf "ipckit-%f\n" | LC_ALL=C sort | tr '\n' ' ')
for attempt in 1 2 3 4 5 6; do
  listed=$(npm view "ipckit@$version" optionalDependencies --json 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const deps = s.trim() ? JSON.parse(s) : {};
      const wrong = Object.entries(deps).filter(([, v]) => v !== process.argv[1]);
      if (wrong.length) { console.error("wrong versions:", wrong); process.exit(1); }
      console.log(Object.keys(deps).sort().join(" ") + " ");
    })' "$version") || listed=""
  if [ "$listed" = "$expected" ]; then
    for pkg in $listed; do
      suffix=${pkg#ipckit-}
      files=$(npm view "$pkg@$version" dist.fileCount 2>/dev/null || echo 0)
      [ "$files" -ge 2 ] || { echo "$pkg@$version is missing or empty on the registry" >&2; exit 1; }
      echo "  $pkg@$version published ($files files, main ipckit.$suffix.node)"
    done
    echo "ipckit@$version lists all $(echo "$listed" | wc -w) platform packages"
    exit 0
  fi
  echo "attempt $attempt: ipckit@$version lists [${listed}], expected [${expected}]; waiting" >&2
  sleep 20
done
exit 1
