import { toBinary } from "@bufbuild/protobuf";
import { ColumnarRowsSchema, ScalarType, type Column } from "@granary/proto/types";
import type { ModelVersion } from "@granary/proto/registry";
import { fieldError, quote } from "./field-error.js";

/** Names of projects, models, aliases and feature views. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

export const MAX_DESCRIPTION = 10_000;
export const MAX_TAG_LENGTH = 128;
export const MAX_KEY_LENGTH = 250;
export const MAX_PARAMETER_VALUE = 6000;
export const MAX_FRAMEWORK = 100;
/** An input example is "a few rows"; a model's weights belong in an artifact. */
export const MAX_INPUT_EXAMPLE_BYTES = 1024 * 1024;

export function checkIdentifier(value: string, field: string, what: string): void {
  if (IDENTIFIER.test(value)) return;
  throw fieldError(field, `${what} ${quote(value)} must be an identifier: a lower-case letter, then at most 62 lower-case letters, digits or underscores`);
}

export function validateTags(tags: readonly string[], field: string): void {
  tags.forEach((tag, i) => {
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || /[\u0000-\u001f\u007f]/.test(tag)) {
      throw fieldError(`${field}[${i}]`, `a tag has 1 to ${MAX_TAG_LENGTH} printable characters`);
    }
  });
}

export function validateDescription(description: string, field: string): void {
  if (description.length > MAX_DESCRIPTION) throw fieldError(field, `at most ${MAX_DESCRIPTION} characters`);
}

/**
 * Checks what a caller defines on a version: everything but the output-only fields (status,
 * aliases, times, etag), which are ignored. The version number is assigned by the registry.
 */
export function validateVersionDefinition(mv: ModelVersion, field = "model_version"): void {
  checkIdentifier(mv.project, `${field}.project`, "project");
  checkIdentifier(mv.model, `${field}.model`, "model");
  validateDescription(mv.description, `${field}.description`);
  if (mv.framework.length > MAX_FRAMEWORK || /[\u0000-\u001f]/.test(mv.framework)) {
    throw fieldError(`${field}.framework`, `at most ${MAX_FRAMEWORK} printable characters`);
  }
  validateTags(mv.tags, `${field}.tags`);
  for (const key of Object.keys(mv.metrics)) checkKey(key, `${field}.metrics`, "metric");
  for (const [key, value] of Object.entries(mv.parameters)) {
    checkKey(key, `${field}.parameters`, "parameter");
    if (value.length > MAX_PARAMETER_VALUE) throw fieldError(`${field}.parameters[${quote(key)}]`, `a value has at most ${MAX_PARAMETER_VALUE} characters`);
  }
  if (mv.schema) {
    validateColumns(mv.schema.inputs, `${field}.schema.inputs`);
    validateColumns(mv.schema.outputs, `${field}.schema.outputs`);
  }
  if (mv.inputExample) validateInputExample(mv, `${field}.input_example`);
  validateTrainedOn(mv, field);
}

function checkKey(key: string, field: string, what: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(key)) {
    throw fieldError(`${field}[${quote(key)}]`, `a ${what} name has 1 to ${MAX_KEY_LENGTH} printable characters`);
  }
}

function validateColumns(columns: readonly Column[], field: string): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.name.length === 0 || c.name.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(c.name)) {
      throw fieldError(`${field}[${i}].name`, `a column name has 1 to ${MAX_KEY_LENGTH} printable characters`);
    }
    if (seen.has(c.name)) throw fieldError(`${field}[${i}].name`, `${quote(c.name)} is listed twice`);
    seen.add(c.name);
    if (!c.type || c.type.scalar === ScalarType.UNSPECIFIED) throw fieldError(`${field}[${i}].type`, `column ${quote(c.name)} needs a type`);
  });
}

function validateInputExample(mv: ModelVersion, field: string): void {
  const example = mv.inputExample!;
  const seen = new Set<string>();
  example.columns.forEach((c, i) => {
    if (c.name.length === 0) throw fieldError(`${field}.columns[${i}].name`, "a column needs a name");
    if (seen.has(c.name)) throw fieldError(`${field}.columns[${i}].name`, `${quote(c.name)} is listed twice`);
    seen.add(c.name);
  });
  if (toBinary(ColumnarRowsSchema, example).byteLength > MAX_INPUT_EXAMPLE_BYTES) {
    throw fieldError(field, `an input example is a few rows, at most ${MAX_INPUT_EXAMPLE_BYTES} bytes; store larger samples as an artifact`);
  }
}

function validateTrainedOn(mv: ModelVersion, field: string): void {
  const view = mv.featureView;
  if (view) {
    checkIdentifier(view.name, `${field}.feature_view.name`, "feature view");
    if (view.version < 1) throw fieldError(`${field}.feature_view.version`, "a feature view version is 1 or more");
  }
  if (mv.trainingDatasetVersion < 0) throw fieldError(`${field}.training_dataset_version`, "must be 0 (none) or more");
  if (mv.trainingDatasetVersion > 0 && !view) {
    throw fieldError(`${field}.training_dataset_version`, "a training dataset belongs to a feature view: set feature_view too");
  }
}
