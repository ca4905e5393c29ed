// The bad-request generator: for any method read from a service descriptor, requests built from the
// input message's own fields, most of them aimed at a real fixture (project "shop", group "fg") so
// they get past NOT_FOUND and into the handler, with one to a few fields made hostile by type.
import { create, type DescField, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { EXTREME_NANOS, EXTREME_SECONDS, hostileArrow, pick, scalarValue, smallScalar, type Rng } from "./hostile-values.js";

/** A call to make: one request for unary and server streams, the messages of a client or bidi stream. */
export interface BadCall {
  readonly method: DescMethod;
  readonly label: string;
  readonly messages: readonly unknown[];
}

export interface Fixture {
  readonly project: string;
  readonly group: string;
  readonly view: string;
  readonly model: string;
  readonly version: number;
}

type Msg = Record<string, unknown>;

const HUGE_LIST = 10_000;
const HUGE_MESSAGE_LIST = 300;
const DEEP = 120;

/** Fills the fields a handler looks up first (project, group, view, model, version) with the fixture's names. */
export function fixtureMessage(schema: DescMessage, fixture: Fixture, depth = 0, via = ""): Msg {
  const msg = create(schema) as Msg;
  if (depth > 3) return msg;
  const names: Record<string, string> = {
    project: fixture.project,
    withproject: fixture.project,
    featuregroup: fixture.group,
    group: fixture.group,
    featureview: fixture.view,
    model: fixture.model,
  };
  // A reference message ({name, version}) takes the name of what the field refers to.
  const ownName = names[via.toLowerCase()] ?? (/^Model/.test(schema.name) ? fixture.model : undefined);
  for (const field of schema.fields) {
    if (field.oneof) continue;
    const name = field.localName.toLowerCase();
    const current = msg[field.localName];
    if (field.fieldKind === "scalar" && typeof current === "string") {
      const value = name === "name" ? ownName : names[name];
      if (value !== undefined) msg[field.localName] = value;
    } else if (field.fieldKind === "scalar" && name === "version") {
      msg[field.localName] = typeof current === "bigint" ? BigInt(fixture.version) : typeof current === "string" ? String(fixture.version) : fixture.version;
    } else if (field.fieldKind === "message" && !isWellKnown(field.message) && field.message !== schema) {
      msg[field.localName] = fixtureMessage(field.message, fixture, depth + 1, field.localName);
    }
  }
  return msg;
}

const isWellKnown = (schema: DescMessage) => schema.typeName.startsWith("google.protobuf.");

/** A hostile value for a whole message of this type: extreme times, deep nesting, or hostile fields. */
export function hostileMessage(rng: Rng, schema: DescMessage, fixture: Fixture, depth = 0): Msg {
  if (schema.typeName === "google.protobuf.Timestamp" || schema.typeName === "google.protobuf.Duration") {
    return create(schema, { seconds: pick(rng, EXTREME_SECONDS), nanos: pick(rng, EXTREME_NANOS) } as never) as Msg;
  }
  if (depth < DEEP && rng() < 0.3) {
    const recursive = schema.fields.find((f) => reaches(f, schema));
    if (recursive) return deepMessage(rng, schema, recursive, fixture, depth);
  }
  const msg = rng() < 0.7 ? fixtureMessage(schema, fixture) : (create(schema) as Msg);
  if (depth > 4) return msg;
  const count = 1 + Math.floor(rng() * Math.min(3, Math.max(1, schema.fields.length)));
  for (let i = 0; i < count && schema.fields.length > 0; i++) setHostile(rng, schema, msg, pick(rng, schema.fields), fixture, depth);
  return msg;
}

/** Nests the message inside itself as deep as DEEP through the field that leads back to it. */
function deepMessage(rng: Rng, schema: DescMessage, via: DescField, fixture: Fixture, depth: number): Msg {
  const msg = fixtureMessage(schema, fixture);
  let inner: Msg = msg;
  let innerSchema = schema;
  let field = via;
  for (let d = depth; d < DEEP; d++) {
    const childSchema = fieldMessage(field)!;
    const child = create(childSchema) as Msg;
    place(innerSchema, inner, field, field.fieldKind === "list" ? [child] : child);
    inner = child;
    innerSchema = childSchema;
    const next = childSchema.fields.find((f) => reaches(f, schema) || fieldMessage(f) === schema);
    if (!next) break;
    field = next;
  }
  if (innerSchema.fields.length > 0) setHostile(rng, innerSchema, inner, pick(rng, innerSchema.fields), fixture, DEEP);
  return msg;
}

function fieldMessage(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}

/** Whether the field's message type can contain `target` again (a recursive type). */
function reaches(field: DescField, target: DescMessage, seen = new Set<string>()): boolean {
  const schema = fieldMessage(field);
  if (!schema || isWellKnown(schema)) return false;
  if (schema === target) return true;
  if (seen.has(schema.typeName)) return false;
  seen.add(schema.typeName);
  return schema.fields.some((f) => reaches(f, target, seen));
}

/** Sets a field, in its oneof when it has one. */
function place(schema: DescMessage, msg: Msg, field: DescField, value: unknown): void {
  if (field.oneof) msg[field.oneof.localName] = { case: field.localName, value };
  else msg[field.localName] = value;
  void schema;
}

function enumValue(rng: Rng, values: readonly { number: number }[]): number {
  return rng() < 0.5 ? pick(rng, [9999, -1, 2147483647, -2147483648, values.length + 1]) : pick(rng, values).number;
}

function setHostile(rng: Rng, schema: DescMessage, msg: Msg, field: DescField, fixture: Fixture, depth: number): void {
  switch (field.fieldKind) {
    case "scalar":
      place(schema, msg, field, scalarValue(rng, field.scalar, field.longAsString));
      return;
    case "enum":
      place(schema, msg, field, enumValue(rng, field.enum.values));
      return;
    case "message":
      place(schema, msg, field, hostileMessage(rng, field.message, fixture, depth + 1));
      return;
    case "list": {
      const huge = rng() < 0.3;
      const length = huge ? (field.listKind === "message" ? HUGE_MESSAGE_LIST : HUGE_LIST) : Math.floor(rng() * 5);
      const items: unknown[] = [];
      for (let i = 0; i < length; i++) {
        if (field.listKind === "scalar")
          items.push(huge ? smallScalar(rng, field.scalar, field.longAsString) : scalarValue(rng, field.scalar, field.longAsString));
        else if (field.listKind === "enum") items.push(enumValue(rng, field.enum.values));
        else items.push(huge ? fixtureMessage(field.message, fixture) : hostileMessage(rng, field.message, fixture, depth + 1));
      }
      msg[field.localName] = items;
      return;
    }
    case "map": {
      const map: Record<string, unknown> = {};
      const length = rng() < 0.2 ? 2000 : 1 + Math.floor(rng() * 4);
      for (let i = 0; i < length; i++) {
        const key = String(field.mapKey === 9 ? (i === 0 ? scalarValue(rng, field.mapKey, false) : `k${i}`) : i);
        if (field.mapKind === "scalar") map[key] = length > 10 ? smallScalar(rng, field.scalar, false) : scalarValue(rng, field.scalar, false);
        else if (field.mapKind === "enum") map[key] = enumValue(rng, field.enum.values);
        else map[key] = length > 10 ? fixtureMessage(field.message, fixture) : hostileMessage(rng, field.message, fixture, depth + 1);
      }
      msg[field.localName] = map;
      return;
    }
  }
}

/** The stream's header case (the first member of its oneof) and its data cases (the rest). */
function streamShape(schema: DescMessage): { header: DescField; data: DescField[] } | undefined {
  const oneof = schema.oneofs[0];
  const header = oneof?.fields[0];
  if (!oneof || !header || header.fieldKind !== "message") return undefined;
  return { header, data: oneof.fields.slice(1) };
}

function streamMessage(schema: DescMessage, field: DescField, value: unknown): Msg {
  const msg = create(schema) as Msg;
  place(schema, msg, field, value);
  return msg;
}

function garbageData(rng: Rng, schema: DescMessage, field: DescField, fixture: Fixture): Msg {
  if (field.fieldKind === "scalar") return streamMessage(schema, field, rng() < 0.7 ? hostileArrow(rng) : scalarValue(rng, field.scalar, field.longAsString));
  if (field.fieldKind === "message") {
    const inner = create(field.message) as Msg;
    const bytesField = field.message.fields.find((f) => f.fieldKind === "scalar" && f.scalar === 12);
    if (bytesField) inner[bytesField.localName] = hostileArrow(rng);
    else Object.assign(inner, hostileMessage(rng, field.message, fixture));
    return streamMessage(schema, field, inner);
  }
  return create(schema) as Msg;
}

/** One hostile call of the method, drawn from the generator. */
export function badCall(rng: Rng, method: DescMethod, fixture: Fixture): BadCall {
  const input = method.input;
  const shape = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? streamShape(input) : undefined;
  if (!shape) {
    const request = hostileMessage(rng, input, fixture);
    return { method, label: "hostile fields", messages: [request] };
  }
  const goodHeader = () => streamMessage(input, shape.header, fixtureMessage(shape.header.message!, fixture));
  const badHeader = () => streamMessage(input, shape.header, hostileMessage(rng, shape.header.message!, fixture));
  const garbage = (n: number) =>
    Array.from({ length: n }, () => garbageData(rng, input, pick(rng, shape.data.length > 0 ? shape.data : [shape.header]), fixture));
  switch (Math.floor(rng() * 6)) {
    case 0:
      return { method, label: "bad first message (data before header)", messages: garbage(1 + Math.floor(rng() * 2)) };
    case 1:
      return { method, label: "bad first message (empty oneof)", messages: [create(input), ...garbage(1)] };
    case 2:
      return { method, label: "hostile header", messages: [badHeader()] };
    case 3:
      return { method, label: "hostile header then garbage chunks", messages: [badHeader(), ...garbage(1 + Math.floor(rng() * 3))] };
    case 4:
      return { method, label: "header then garbage chunks", messages: [goodHeader(), ...garbage(1 + Math.floor(rng() * 4))] };
    default:
      return { method, label: "second header", messages: [goodHeader(), ...garbage(Math.floor(rng() * 2)), rng() < 0.5 ? goodHeader() : badHeader()] };
  }
}

/** A short, printable summary of a request for a finding, without its 10k-character strings. */
export function summarize(value: unknown, depth = 0): string {
  if (depth > 3) return "…";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length} chars)` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (Array.isArray(value))
    return value.length > 3 ? `[${value.length} items: ${summarize(value[0], depth + 1)}, …]` : `[${value.map((v) => summarize(v, depth + 1)).join(", ")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(
      ([k, v]) => k !== "$typeName" && k !== "$unknown" && v !== undefined && v !== "" && v !== 0 && !(Array.isArray(v) && v.length === 0),
    );
    return `{${entries.map(([k, v]) => `${k}: ${summarize(v, depth + 1)}`).join(", ")}}`;
  }
  return String(value);
}
