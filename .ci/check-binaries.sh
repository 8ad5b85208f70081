#!/usr/bin/env bash
# Release gate: after `napi artifacts --output-dir artifacts --npm-dir npm`, every platform package
# must hold its binary (napi prepublish would otherwise publish what it has, and users of the
# missing platform would silently get the js backend). Usage: .ci/check-binaries.sh [npm-dir]
# shellcheck disable=SC2016 # the single-quoted program is JavaScript
set -euo pipefail
cd "$(dirname "$0")/.."
npm_dir=${1:-npm}
missing=0
count=0
for suffix in $(node -p 'require("./package.json").napi.targets.map((t) => {
    const [arch, , os, abi] = t.split("-");
    const cpu = { x86_64: "x64", aarch64: "arm64" }[arch] ?? arch;
    return os === "darwin" ? `darwin-${cpu}` : `${os}-${cpu}-${abi}`;
  }).join(" ")'); do
  count=$((count + 1))
  file=$npm_dir/$suffix/ipckit.$suffix.node
  if [ -s "$file" ]; then
    printf '  ok       %-18s %s bytes\n' "$suffix" "$(wc -c <"$file" | tr -d ' ')"
  else
    printf '  MISSING  %-18s %s\n' "$suffix" "$file"
    missing=$((missing + 1))
  fi
done
[ "$missing" -eq 0 ] || { echo "$missing of $count platform binaries are missing: do not publish" >&2; exit 1; }
echo "all $count platform binaries present"
