#!/usr/bin/env bash
# Validates .github/workflows with actionlint, built from source through the Go module proxy
# (pinned; cached under ~/.cache so a second run does not rebuild it). Needs Go >= 1.24.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.7.12
bin_dir=${XDG_CACHE_HOME:-$HOME/.cache}/ipckit-ci/actionlint-$version
if [ ! -x "$bin_dir/actionlint" ]; then
  command -v go >/dev/null || { echo "actionlint needs Go (https://go.dev/dl/) to build" >&2; exit 1; }
  GOBIN=$bin_dir GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi
echo "actionlint $("$bin_dir/actionlint" -version | head -1)"
# When shellcheck (and pyflakes) are on PATH, actionlint also checks the run: scripts with them.
"$bin_dir/actionlint" -no-color
echo "actionlint: .github/workflows ok"
