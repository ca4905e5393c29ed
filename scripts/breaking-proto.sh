#!/usr/bin/env bash
# buf breaking against the main branch: origin/main when this clone has one that differs from HEAD
# (a feature branch), else the previous commit (CI on main). PROTO_BREAKING_BASE overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${PROTO_BREAKING_BASE:-}"
if [ -z "$base" ]; then
  if git rev-parse -q --verify origin/main >/dev/null && [ "$(git rev-parse origin/main)" != "$(git rev-parse HEAD)" ]; then
    base="$(git merge-base HEAD origin/main)"
  elif git rev-parse -q --verify HEAD~1 >/dev/null; then
    base="$(git rev-parse HEAD~1)"
  fi
fi
if [ -z "$base" ] || ! git cat-file -e "$base:proto" 2>/dev/null; then
  echo "no earlier proto/ to compare with; skipping buf breaking"
  exit 0
fi
npx buf breaking --against ".git#ref=$base"
echo "no breaking changes against $base"
