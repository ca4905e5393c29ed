#!/bin/sh
# Random keys for docker compose, written into an env file (default .env, which git ignores):
#
#   GRANARY_SERVICE_KEY          the internal key the four services call each other with
#   GRANARY_BOOTSTRAP_ADMIN_KEY  the first admin API key (grn_<16 hex>_<43 base64url>), stored by
#                                metadata on first start; use it as GRANARY_API_KEY
#
#   scripts/dev-keys.sh [ENV_FILE]
#
# A key already set in the file is kept; an empty or missing one is filled in. The file is made
# readable by its owner only. POSIX sh and the openssl command line only.
set -eu

file=${1:-.env}
[ -f "$file" ] || { echo "dev-keys: $file does not exist (cp .env.example $file first)" >&2; exit 1; }

b64url() {
  openssl rand -base64 "$1" | tr -d '\n=' | tr '+/' '-_'
}

# set NAME VALUE: fills NAME= in the file when it is empty or absent; keeps a value already there.
set_key() {
  if grep -Eq "^$1=.+" "$file"; then
    echo "dev-keys: $1 already set in $file; kept"
  elif grep -Eq "^$1=" "$file"; then
    tmp="$file.tmp.$$"
    sed "s|^$1=\$|$1=$2|" "$file" >"$tmp" && cat "$tmp" >"$file" && rm -f "$tmp"
    echo "dev-keys: $1 written to $file"
  else
    printf '%s=%s\n' "$1" "$2" >>"$file"
    echo "dev-keys: $1 written to $file"
  fi
}

chmod 0600 "$file"
set_key GRANARY_SERVICE_KEY "$(b64url 36)"
set_key GRANARY_BOOTSTRAP_ADMIN_KEY "grn_$(openssl rand -hex 8)_$(b64url 32)"
