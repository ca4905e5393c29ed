import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";

// proto3 enums are open: a number no value declares (split = 99) decodes fine and would reach the
// domain code as a case nobody handles. Requests are refused instead, naming the field.

// Whether a message can hold an enum at all, decided once per schema: the online hot path's
// requests have none and pay one map lookup.
const holdsEnums = new Map<DescMessage, boolean>();

/** Throws InvalidArgumentError for the first enum field, at any depth, holding an undeclared number. */
export function checkDefinedEnums(schema: DescMessage, message: object): void {
  if (canHoldEnums(schema)) walk(schema, message as Record<string, unknown>, "");
}

function walk(schema: DescMessage, message: Record<string, unknown>, prefix: string): void {
  for (const field of schema.fields) {
    const value = valueOf(field, message);
    if (value === undefined) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "enum":
        checkValue(field.enum, value, path);
        break;
      case "message":
        if (canHoldEnums(field.message)) walk(field.message, value as Record<string, unknown>, `${path}.`);
        break;
      case "list":
        if (field.listKind === "enum") (value as unknown[]).forEach((v, i) => checkValue(field.enum, v, `${path}[${i}]`));
        else if (field.listKind === "message" && canHoldEnums(field.message)) {
          (value as Record<string, unknown>[]).forEach((v, i) => walk(field.message, v, `${path}[${i}].`));
        }
        break;
      case "map":
        for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
          if (field.mapKind === "enum") checkValue(field.enum, v, `${path}[${key}]`);
          else if (field.mapKind === "message" && canHoldEnums(field.message)) walk(field.message, v as Record<string, unknown>, `${path}[${key}].`);
        }
        break;
      case "scalar":
        break;
    }
  }
}

function valueOf(field: DescField, message: Record<string, unknown>): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const selected = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return selected?.case === field.localName ? selected.value : undefined;
}

function checkValue(desc: DescEnum, value: unknown, path: string): void {
  if (typeof value === "number" && desc.value[value] === undefined) {
    throw new InvalidArgumentError(`invalid request: ${path}: ${value} is not a value of ${desc.typeName}`, { field: path });
  }
}

function canHoldEnums(schema: DescMessage): boolean {
  let holds = holdsEnums.get(schema);
  if (holds === undefined) {
    holds = reachesEnum(schema, new Set());
    holdsEnums.set(schema, holds);
  }
  return holds;
}

function reachesEnum(schema: DescMessage, visiting: Set<DescMessage>): boolean {
  // Well-known types are skipped: protobuf-es gives some of them (wrappers, Struct) a plain JS shape.
  if (visiting.has(schema) || schema.typeName.startsWith("google.protobuf.")) return false;
  visiting.add(schema);
  return schema.fields.some((f) => {
    const kind = f.fieldKind === "list" ? f.listKind : f.fieldKind === "map" ? f.mapKind : f.fieldKind;
    if (kind === "enum") return true;
    return kind === "message" && "message" in f && f.message !== undefined && reachesEnum(f.message, visiting);
  });
}
