#!/usr/bin/env bash
# Fails when libs/proto differs from what `npm run generate` produces from proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent generate
if ! git diff --quiet -- libs/proto || [ -n "$(git status --porcelain -- libs/proto)" ]; then
  echo "libs/proto is out of date with proto/: run 'npm run generate' and commit the result." >&2
  git status --short -- libs/proto >&2
  exit 1
fi
echo "generated code is current"
