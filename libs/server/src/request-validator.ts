import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { InvalidArgumentError } from "@granary/errors";
import { checkDefinedEnums } from "./defined-enums.js";
import { checkWellFormedTimes } from "./well-formed-times.js";

/** The identifier pattern declared on every name in our protos. */
export const IDENTIFIER_PATTERN = "^[a-z][a-z0-9_]{0,62}$";

const validator = createValidator();

/**
 * Checks a request against the protovalidate rules declared in its proto, that every enum holds a
 * declared value and every Timestamp and Duration lies in its defined range, before any handler
 * logic. Throws InvalidArgumentError naming the field at fault.
 */
export function validateRequest<T extends DescMessage>(schema: T, message: MessageShape<T>): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") {
    checkDefinedEnums(schema, message);
    checkWellFormedTimes(schema, message);
    return;
  }
  if (result.kind === "error") {
    throw new InvalidArgumentError(`request could not be validated: ${result.error.message}`, { cause: result.error });
  }
  const violations = result.violations.map((v) => ({ field: fieldPathOf(v), description: describeViolation(v), reason: v.ruleId }));
  const message_ = violations.map((v) => v.description).join("; ");
  throw new InvalidArgumentError(`invalid request: ${message_}`, { violations, reason: "REQUEST_VALIDATION_FAILED" });
}

function fieldPathOf(v: Violation): string {
  let path = "";
  for (const p of v.field) {
    if (p.kind === "list_sub") path += `[${String(p.index)}]`;
    else if (p.kind === "map_sub") path += `[${String(p.key)}]`;
    else path += path === "" ? p.name : `.${p.name}`;
  }
  return path;
}

function describeViolation(v: Violation): string {
  const field = fieldPathOf(v) || "request";
  if (v.ruleId === "string.pattern" && v.message.includes(IDENTIFIER_PATTERN)) {
    return `${field} must be an identifier: a lower-case letter, then at most 62 lower-case letters, digits or underscores`;
  }
  return `${field}: ${v.message}`;
}
