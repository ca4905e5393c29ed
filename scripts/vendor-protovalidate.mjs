// Writes proto/buf/validate/validate.proto from the descriptor embedded in @bufbuild/protovalidate.
//
// There is no internet here and no BSR, so the protovalidate module cannot be fetched by buf. The
// package we validate with already carries the exact descriptor, so we print it back as .proto: same
// packages, messages, field numbers and extensions (what our annotations compile against), without
// the rule options (CEL), which only the validator runtime reads, from its own copy.
import { writeFileSync } from "node:fs";
import { isFieldSet } from "@bufbuild/protobuf";
import { FieldDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate as file } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const TYPE = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
const proto = file.proto;
const out = [];
const line = (depth, text) => out.push("  ".repeat(depth) + text);
const typeOf = (f) => (f.typeName ? f.typeName : TYPE[f.type]);
const labelOf = (f) => (f.label === 3 ? "repeated " : f.label === 2 ? "required " : proto.syntax === "proto3" && !f.proto3Optional ? "" : "optional ");
const fieldLine = (f, inOneof) => `${inOneof ? "" : labelOf(f)}${typeOf(f)} ${f.name} = ${f.number};`;

function printEnum(e, depth) {
  line(depth, `enum ${e.name} {`);
  for (const v of e.value) line(depth + 1, `${v.name} = ${v.number};`);
  for (const r of e.reservedRange) line(depth + 1, `reserved ${r.start} to ${r.end};`);
  line(depth, "}");
}

function printMessage(m, depth) {
  line(depth, `message ${m.name} {`);
  for (const e of m.enumType) printEnum(e, depth + 1);
  for (const n of m.nestedType) if (!n.options?.mapEntry) printMessage(n, depth + 1);
  const maps = new Map(m.nestedType.filter((n) => n.options?.mapEntry).map((n) => [n.name, n]));
  m.oneofDecl.forEach((o, i) => {
    const members = m.field.filter((f) => isOneofMember(m, f) && f.oneofIndex === i);
    if (members.length === 0) return;
    line(depth + 1, `oneof ${o.name} {`);
    for (const f of members) line(depth + 2, fieldLine(f, true));
    line(depth + 1, "}");
  });
  for (const f of m.field) {
    if (isOneofMember(m, f)) continue;
    const entry = f.typeName ? maps.get(f.typeName.split(".").pop()) : undefined;
    if (entry) {
      line(depth + 1, `map<${typeOf(entry.field[0])}, ${typeOf(entry.field[1])}> ${f.name} = ${f.number};`);
    } else {
      line(depth + 1, fieldLine(f, false));
    }
  }
  for (const r of m.extensionRange) line(depth + 1, `extensions ${r.start} to ${r.end - 1 >= 536870911 ? "max" : r.end - 1};`);
  for (const r of m.reservedRange) line(depth + 1, `reserved ${r.start} to ${r.end - 1};`);
  for (const n of m.reservedName) line(depth + 1, `reserved "${n}";`);
  line(depth, "}");
}

function isOneofMember(m, f) {
  return isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional;
}

line(0, "// Vendored from @bufbuild/protovalidate (Apache-2.0); regenerate with node scripts/vendor-protovalidate.mjs.");
line(0, "// Structure and field numbers only: rule options (CEL) are read by the validator from its own copy.");
line(0, `syntax = "${proto.syntax || "proto2"}";`);
line(0, `package ${proto.package};`);
for (const d of proto.dependency) line(0, `import "${d}";`);
line(0, `option go_package = "${proto.options.goPackage}";`);
line(0, `option java_package = "${proto.options.javaPackage}";`);
line(0, "option java_multiple_files = true;");
for (const e of proto.enumType) printEnum(e, 0);
for (const m of proto.messageType) printMessage(m, 0);
for (const x of proto.extension) {
  line(0, `extend ${x.extendee} {`);
  line(1, fieldLine(x, false));
  line(0, "}");
}
writeFileSync(new URL("../proto/buf/validate/validate.proto", import.meta.url), out.join("\n") + "\n");
