import { clone, create } from "@bufbuild/protobuf";
import { compileExpression } from "@granary/cel";
import { InvalidArgumentError } from "@granary/errors";
import { ColumnRole, OutputColumnSchema, type OnDemandFeature, type OutputColumn } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";
import { describeType } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { checkIdentifier } from "./names.js";

interface Parameter {
  readonly type: DataType;
  readonly field: string;
}

/**
 * Checks the on-demand features and returns their output columns, in order, after the query's.
 * Each expression sees the query's FEATURE columns and its own request parameters; a parameter
 * shared by several features is one value from the caller, so it has one type.
 */
export function onDemandOutputColumns(features: readonly OnDemandFeature[], queryColumns: readonly OutputColumn[], field: string): OutputColumn[] {
  const columnNames = new Set(queryColumns.map((c) => c.name));
  const parameters = new Map<string, Parameter>();
  features.forEach((feature, i) => checkSignature(feature, `${field}[${i}]`, columnNames, parameters));

  const featureInputs = queryColumns.filter((c) => c.role === ColumnRole.FEATURE).map((c) => [c.name, c.type!] as const);
  const seen = new Set<string>();
  return features.map((feature, i) => {
    const at = `${field}[${i}]`;
    if (columnNames.has(feature.name)) {
      throw fieldError(`${at}.name`, `${quote(feature.name)} clashes with an output column of the query`);
    }
    if (parameters.has(feature.name)) {
      throw fieldError(`${at}.name`, `${quote(feature.name)} clashes with a request parameter of the same name`);
    }
    if (seen.has(feature.name)) throw fieldError(`${at}.name`, `${quote(feature.name)} is defined twice`);
    seen.add(feature.name);

    const inputs = new Map<string, DataType>([...featureInputs, ...feature.requestParameters.map((p) => [p.name, p.type!] as const)]);
    compile(feature, inputs, `${at}.expression`);
    return create(OutputColumnSchema, {
      name: feature.name,
      type: clone(DataTypeSchema, feature.type!),
      role: ColumnRole.ON_DEMAND,
    });
  });
}

function checkSignature(feature: OnDemandFeature, at: string, columnNames: ReadonlySet<string>, parameters: Map<string, Parameter>): void {
  checkIdentifier(feature.name, `${at}.name`, "on-demand feature name");
  checkType(feature.type, `${at}.type`, `on-demand feature ${quote(feature.name)}`);
  const own = new Set<string>();
  feature.requestParameters.forEach((parameter, j) => {
    const pAt = `${at}.request_parameters[${j}]`;
    checkIdentifier(parameter.name, `${pAt}.name`, "request parameter name");
    if (own.has(parameter.name)) throw fieldError(`${pAt}.name`, `${quote(parameter.name)} is declared twice`);
    own.add(parameter.name);
    if (columnNames.has(parameter.name)) {
      throw fieldError(`${pAt}.name`, `${quote(parameter.name)} clashes with an output column of the query`);
    }
    checkType(parameter.type, `${pAt}.type`, `request parameter ${quote(parameter.name)}`);
    const type = parameter.type!;
    const earlier = parameters.get(parameter.name);
    if (!earlier) {
      parameters.set(parameter.name, { type, field: pAt });
    } else if (earlier.type.scalar !== type.scalar || earlier.type.list !== type.list || earlier.type.dimension !== type.dimension) {
      throw fieldError(
        `${pAt}.type`,
        `request parameter ${quote(parameter.name)} is ${describeType(type)} here but ${describeType(earlier.type)} at ${earlier.field}`,
      );
    }
  });
}

function checkType(type: DataType | undefined, field: string, what: string): void {
  if (!type || type.scalar === ScalarType.UNSPECIFIED || ScalarType[type.scalar] === undefined) {
    throw fieldError(field, `${what} needs a type`);
  }
}

function compile(feature: OnDemandFeature, inputs: ReadonlyMap<string, DataType>, field: string): void {
  if (feature.expression.trim() === "") throw fieldError(field, `on-demand feature ${quote(feature.name)} needs an expression`);
  try {
    compileExpression(feature.expression, inputs, feature.type!);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw fieldError(field, err.message, err);
    throw err;
  }
}
