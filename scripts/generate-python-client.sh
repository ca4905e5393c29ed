#!/usr/bin/env bash
# Generates the Python client's protobuf messages and gRPC stubs under clients/python/src from
# proto/, with Debian's protoc (protobuf-compiler) and gRPC Python plugin (protobuf-compiler-grpc).
# The output is committed; `--check` regenerates into a scratch directory and fails when the
# committed tree differs, touching nothing.
#
# Layout (clients/python/src is the import root; protoc's Python output imports absolutely from
# the proto root, e.g. `from granary.types.v1 import types_pb2`):
#   granary/...            generated from proto/granary (messages; stubs for the four services)
#   buf/validate/...       generated from proto/buf (messages only: the validation options)
#   granary_client/health/v1/
#                          generated from proto/grpc/health/v1/health.proto, compiled as
#                          granary_client/health/v1/health.proto: a top-level `grpc` package would
#                          collide with grpcio's. Service and message names stay grpc.health.v1.
#   granary_client/*.py    hand-written (connect(), column helpers): never touched here
# google/protobuf/* (well-known types) come with the protobuf runtime and are not generated.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=generate
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# Every Debian package this script needs, and what each one provides:
#   protobuf-compiler       protoc
#   libprotobuf-dev         google/protobuf/*.proto, the well-known types our protos import
#                           (timestamp, duration, field_mask, descriptor); --no-install-recommends
#                           skips it, and protoc then fails with "File not found"
#   protobuf-compiler-grpc  grpc_python_plugin (the gRPC stubs)
#   python3-grpcio, python3-protobuf
#                           the runtime the import check loads the generated modules with
apt_packages="protobuf-compiler libprotobuf-dev protobuf-compiler-grpc python3-grpcio python3-protobuf"
apt_line="apt-get install -y --no-install-recommends $apt_packages"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || echo /usr/bin/grpc_python_plugin)}"
python="${GRANARY_PYTHON:-/usr/bin/python3}"
wkt_include="${PROTOC_INCLUDE:-/usr/include}"
# The committed code was generated with this protoc; another version may generate different code.
expected_protoc="libprotoc 3.21.12"
target=clients/python/src
generated_dirs=(granary buf granary_client/health)

# Prove every prerequisite before using any, so a missing one fails with the line that installs it
# rather than with protoc's or Python's own errors.
missing=()
command -v "$protoc" >/dev/null 2>&1 || missing+=("protoc ($protoc): Debian package protobuf-compiler")
[ -f "$wkt_include/google/protobuf/descriptor.proto" ] && [ -f "$wkt_include/google/protobuf/timestamp.proto" ] \
  || missing+=("the well-known types $wkt_include/google/protobuf/{descriptor,timestamp,duration,field_mask}.proto: Debian package libprotobuf-dev")
[ -x "$plugin" ] || missing+=("grpc_python_plugin ($plugin): Debian package protobuf-compiler-grpc")
"$python" -c 'import google.protobuf' 2>/dev/null || missing+=("the Python module google.protobuf for $python: Debian package python3-protobuf")
"$python" -c 'import grpc' 2>/dev/null || missing+=("the Python module grpc for $python: Debian package python3-grpcio")
if [ "${#missing[@]}" -ne 0 ]; then
  echo "$0: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "install them with: $apt_line" >&2
  exit 1
fi
actual_protoc="$("$protoc" --version)"
if [ "$actual_protoc" != "$expected_protoc" ]; then
  echo "protoc is '$actual_protoc'; $target was generated with '$expected_protoc' (Debian 12's protobuf-compiler)." >&2
  if [ "$mode" = check ]; then exit 1; fi
  echo "generating anyway: review the diff, and update expected_protoc in $0 if it is intended." >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/src"
mkdir -p "$out"

# Every granary proto and what it imports from proto/ (buf/validate); sorted for stable output.
mapfile -t protos < <(cd proto && find granary buf -name '*.proto' | LC_ALL=C sort)
mapfile -t services < <(cd proto && grep -l '^service ' "${protos[@]}" | LC_ALL=C sort)
"$protoc" -I proto -I "$wkt_include" --python_out="$out" --pyi_out="$out" "${protos[@]}"
"$protoc" -I proto -I "$wkt_include" --plugin=protoc-gen-grpc_python="$plugin" --grpc_python_out="$out" "${services[@]}"

health="$work/health"
mkdir -p "$health/granary_client/health/v1"
cp proto/grpc/health/v1/health.proto "$health/granary_client/health/v1/health.proto"
"$protoc" -I "$health" -I "$wkt_include" --python_out="$out" --pyi_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" --grpc_python_out="$out" granary_client/health/v1/health.proto

# Regular packages: an __init__.py in every generated directory.
for d in "${generated_dirs[@]}"; do
  find "$out/$d" -type d | while read -r dir; do
    printf '# Generated by scripts/generate-python-client.sh. DO NOT EDIT.\n' >"$dir/__init__.py"
  done
done

# Imports every generated module (and the hand-written package) with the Python that runs them.
import_check() {
  local root="$1"
  (cd "$root" && find "${generated_dirs[@]}" -name '*.py' ! -name '__init__.py' | LC_ALL=C sort | sed 's|\.py$||; s|/|.|g') >"$work/modules"
  PYTHONPATH="$root" PYTHONDONTWRITEBYTECODE=1 "$python" - "$work/modules" <<'EOF'
import importlib, sys
names = open(sys.argv[1]).read().split()
for name in names + ["granary_client"]:
    importlib.import_module(name)
print(f"imported {len(names)} generated modules and granary_client")
EOF
}

if [ "$mode" = check ]; then
  stale=0
  for d in "${generated_dirs[@]}"; do
    if ! diff -r -q "$out/$d" "$target/$d" -x __pycache__ >&2; then stale=1; fi
  done
  if [ "$stale" -ne 0 ]; then
    echo "$target is out of date with proto/: run 'npm run generate:clients' and commit the result." >&2
    exit 1
  fi
  import_check "$target"
  echo "Python client is current"
  exit 0
fi

for d in "${generated_dirs[@]}"; do
  rm -rf "${target:?}/$d"
  mkdir -p "$(dirname "$target/$d")"
  cp -R "$out/$d" "$target/$d"
done
import_check "$target"
echo "generated $target from proto/ ($actual_protoc, $(dpkg-query -W -f '${Package} ${Version}' protobuf-compiler-grpc 2>/dev/null || echo grpc_python_plugin))"
