#!/bin/sh
# Development certificates for Granary's TLS (GRANARY_TLS_CERT / GRANARY_TLS_KEY / GRANARY_TLS_CA):
# a throwaway CA, one service certificate for all four services, and a client certificate.
#
#   scripts/dev-certs.sh OUT_DIR [NAME...]
#
# OUT_DIR gets:
#   ca.crt                  the CA to trust (its key is thrown away unless DEV_CERTS_KEEP_CA_KEY=1
#                           writes ca.key too: the services' volume should not hold it)
#   server.crt, server.key  serverAuth + clientAuth, so a service both serves with it and presents
#                           it to the others under mTLS. Names: localhost, 127.0.0.1, ::1, the
#                           compose service names (metadata, online, offline, registry) and NAME...
#   client.crt, client.key  clientAuth only, for a user or tool when the servers require client
#                           certificates (GRANARY_TLS_CA set)
#
# Existing files are kept (set DEV_CERTS_FORCE=1 to make new ones). Set DEV_CERTS_OWNER=uid:gid to
# chown the files (docker-compose.yml: 10001:10001, the image's user). POSIX sh and the openssl
# command line only. Never use these certificates outside development.
set -eu

out=${1:?usage: scripts/dev-certs.sh OUT_DIR [NAME...]}
shift
days=${DEV_CERTS_DAYS:-365}

mkdir -p "$out"
if [ -s "$out/ca.crt" ] && [ -s "$out/server.crt" ] && [ -s "$out/client.crt" ] && [ "${DEV_CERTS_FORCE:-0}" != 1 ]; then
  echo "dev-certs: $out already holds certificates (DEV_CERTS_FORCE=1 replaces them)"
  exit 0
fi

sans="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:metadata,DNS:online,DNS:offline,DNS:registry"
for name in "$@"; do
  case "$name" in
    *[!0-9.]*) sans="$sans,DNS:$name" ;;
    *) sans="$sans,IP:$name" ;;
  esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# sign NAME CN EXTENSIONS: a key and a certificate signed by the CA.
sign() {
  key "$tmp/$1.key"
  openssl req -new -key "$tmp/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
  printf '%s\n' "$3" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt" 2>/dev/null
}

key "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -subj "/CN=Granary development CA" -days "$days" -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.crt"
sign server granary "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$sans"
sign client granary-dev-client "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

[ "${DEV_CERTS_KEEP_CA_KEY:-0}" = 1 ] || rm -f "$tmp/ca.key" "$out/ca.key"
for f in ca.crt server.crt client.crt; do cp "$tmp/$f" "$out/" && chmod 0644 "$out/$f"; done
for f in ca.key server.key client.key; do
  if [ -f "$tmp/$f" ]; then cp "$tmp/$f" "$out/" && chmod 0600 "$out/$f"; fi
done
if [ -n "${DEV_CERTS_OWNER:-}" ]; then
  chown "$DEV_CERTS_OWNER" "$out"/*.crt "$out"/*.key
fi
echo "dev-certs: wrote ca, server and client certificates to $out (names: $sans)"
