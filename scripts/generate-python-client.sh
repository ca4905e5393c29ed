#!/usr/bin/env bash
# Generates the Python client's protobuf messages and gRPC stubs under
# clients/python/src/granary_feature_store/proto from proto/, with Debian's protoc
# (protobuf-compiler) and gRPC Python plugin (protobuf-compiler-grpc). The output is committed;
# `--check` regenerates into a scratch directory and fails when the committed tree differs,
# touching nothing.
#
# Layout (clients/python/src is the import root; one top-level package, granary_feature_store):
#   granary_feature_store/proto/granary/...      from proto/granary (messages; stubs of the four services)
#   granary_feature_store/proto/grpc/health/v1/  from proto/grpc/health/v1/health.proto
#   granary_feature_store/*.py                   hand-written (connect(), values, errors): never touched here
# protoc's Python output imports by proto path (`from granary.types.v1 import types_pb2`); every such
# import, and the module name each file registers its classes under (what pickle uses), is rewritten
# to the nested path by one sed expression below, so the output stays a pure function of proto/.
# Descriptors keep their proto file names and packages: the wire names (granary.online.v1.OnlineService,
# grpc.health.v1.Health) and the descriptor pool entries are what the servers and other clients use.
#
# The buf.validate field options (rules the services enforce) are stripped from the descriptors
# before the Python code is generated: a client never reads them, and keeping them would mean
# shipping our vendored, structure-only buf/validate/validate.proto, which would clash in protobuf's
# descriptor pool with protovalidate's own copy in any process that imports both.
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
package=granary_feature_store
generated=$package/proto

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

# Every granary proto and the health service; sorted for stable output.
mapfile -t protos < <(cd proto && find granary grpc -name '*.proto' | LC_ALL=C sort)
mapfile -t services < <(cd proto && grep -l '^service ' "${protos[@]}" | LC_ALL=C sort)

# 1. One descriptor set of them all, with what they import; 2. the buf.validate options and the
# import of buf/validate/validate.proto taken out (descriptor_pb2 parses the options' extensions as
# unknown fields, since validate_pb2 is not loaded here); 3. Python generated from that set.
"$protoc" -I proto -I "$wkt_include" --include_imports --descriptor_set_out="$work/full.pb" "${protos[@]}"
PYTHONDONTWRITEBYTECODE=1 "$python" - "$work/full.pb" "$work/client.pb" <<'EOF'
import sys
from google.protobuf import descriptor_pb2

full = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], "rb").read())
kept = descriptor_pb2.FileDescriptorSet()
for f in full.file:
    if f.name.startswith("buf/"):
        continue
    assert not f.public_dependency and not f.weak_dependency, f.name
    deps = [d for d in f.dependency if not d.startswith("buf/")]
    del f.dependency[:]
    f.dependency.extend(deps)
    f.DiscardUnknownFields()
    kept.file.add().CopyFrom(f)

def prune(message):
    """Clears every *Options message the stripping left empty, so none is emitted."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        items = value if field.label == field.LABEL_REPEATED else [value]
        for item in items:
            if field.message_type.name.endswith("Options") and item.ByteSize() == 0:
                message.ClearField(field.name)
                break
            prune(item)

for f in kept.file:
    prune(f)
open(sys.argv[2], "wb").write(kept.SerializeToString(deterministic=True))
EOF
"$protoc" --descriptor_set_in="$work/client.pb" --python_out="$out" --pyi_out="$out" "${protos[@]}"
"$protoc" --descriptor_set_in="$work/client.pb" --plugin=protoc-gen-grpc_python="$plugin" --grpc_python_out="$out" "${services[@]}"

# Nest the output under $generated, rewriting the imports by proto path and the module names the
# classes are registered under. Each expression is anchored (a line's start; the module-name
# argument of BuildTopDescriptorsAndMessages), so grpcio's own `import grpc` is never touched.
mkdir -p "$out/$generated"
mv "$out/granary" "$out/grpc" "$out/$generated/"
prefix="${generated//\//.}"
find "$out/$generated" -name '*.py' -o -name '*.pyi' | LC_ALL=C sort | while read -r file; do
  sed -E -i \
    -e "s/^from (granary|grpc\.health)(\.[A-Za-z0-9_.]+)? import /from $prefix.\1\2 import /" \
    -e "s/(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')(granary|grpc\.health)\./\1$prefix.\2./" \
    "$file"
done

# Regular packages: an __init__.py in every generated directory.
find "$out/$generated" -type d | while read -r dir; do
  printf '# Generated by scripts/generate-python-client.sh. DO NOT EDIT.\n' >"$dir/__init__.py"
done

# Imports every generated module (and the hand-written package) with the Python that runs them, and
# proves no generated module still imports by a bare proto path.
import_check() {
  local root="$1"
  if grep -rEn '^(from|import) (granary|grpc\.health|buf)[. ]' "$root/$generated" --include='*.py' --include='*.pyi' >&2; then
    echo "$0: a generated module above still imports by proto path" >&2
    return 1
  fi
  (cd "$root" && find "$generated" -name '*.py' ! -name '__init__.py' | LC_ALL=C sort | sed 's|\.py$||; s|/|.|g') >"$work/modules"
  PYTHONPATH="$root" PYTHONDONTWRITEBYTECODE=1 "$python" - "$work/modules" "$package" <<'EOF'
import importlib, sys
names = open(sys.argv[1]).read().split()
for name in names + [sys.argv[2]]:
    module = importlib.import_module(name)
    for value in vars(module).values():
        # Message classes name the module they live in (pickle finds them by it).
        if isinstance(value, type) and hasattr(value, "DESCRIPTOR") and value.__module__.endswith("_pb2"):
            assert value.__module__ == name, (value, value.__module__, name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("granary", "buf") or m.startswith("grpc.health"))
assert not bad, f"imported outside {sys.argv[2]}: {bad}"
print(f"imported {len(names)} generated modules and {sys.argv[2]}")
EOF
}

if [ "$mode" = check ]; then
  if ! diff -r -q "$out/$generated" "$target/$generated" -x __pycache__ >&2; then
    echo "$target/$generated is out of date with proto/ or with $0: run 'npm run generate:clients' and commit the result." >&2
    exit 1
  fi
  # One top-level package: a leftover of the old layout (granary/, buf/, granary_client/) would be
  # importable again from the source tree.
  stray="$(cd "$target" && find . -mindepth 1 -maxdepth 1 ! -name "$package" ! -name '*.egg-info' ! -name __pycache__ | LC_ALL=C sort)"
  if [ -n "$stray" ]; then
    echo "$target must hold only $package; also found: $stray" >&2
    exit 1
  fi
  import_check "$target"
  echo "Python client is current"
  exit 0
fi

rm -rf "${target:?}/$generated"
mkdir -p "$target/$package"
cp -R "$out/$generated" "$target/$generated"
import_check "$target"
echo "generated $target/$generated from proto/ ($actual_protoc, $(dpkg-query -W -f '${Package} ${Version}' protobuf-compiler-grpc 2>/dev/null || echo grpc_python_plugin))"
