import { fromJson, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";

/** A message as stored in a `resource jsonb` column (proto JSON: stable, readable in psql). */
export function toRow<T extends DescMessage>(schema: T, message: MessageShape<T>): JsonValue {
  return toJson(schema, message);
}

/** A stored message; fields added by later versions are ignored by older ones. */
export function fromRow<T extends DescMessage>(schema: T, json: unknown): MessageShape<T> {
  return fromJson(schema, json as JsonValue, { ignoreUnknownFields: true });
}
