import { ColumnRole, type OutputColumn, type Transformation } from "@granary/proto/metadata";
import { describeScalar, describeType } from "./describe.js";
import { fieldError, quote } from "./field-error.js";
import { findTransformationFunction } from "./transformation-functions.js";

/** Roles whose values reach the model, so a model-dependent transformation can apply to them. */
const TRANSFORMABLE = new Set([ColumnRole.FEATURE, ColumnRole.LABEL, ColumnRole.ON_DEMAND]);

/** Checks the view's transformations and records each on its output column. */
export function attachTransformations(transformations: readonly Transformation[], columns: readonly OutputColumn[], field: string): void {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const done = new Set<string>();
  transformations.forEach((transformation, i) => {
    const at = `${field}[${i}]`;
    const name = transformation.column;
    if (name === "") throw fieldError(`${at}.column`, "a transformation needs a column");
    const column = byName.get(name);
    if (!column) throw fieldError(`${at}.column`, `${quote(name)} is not a column of the view`);
    if (!TRANSFORMABLE.has(column.role)) {
      throw fieldError(`${at}.column`, `${quote(name)} is a helper column, never fed to the model, so it takes no transformation`);
    }
    if (done.has(name)) throw fieldError(`${at}.column`, `${quote(name)} already has a transformation`);
    done.add(name);

    const info = findTransformationFunction(transformation.function);
    if (!info) throw fieldError(`${at}.function`, `the transformation of ${quote(name)} needs a function`);
    const type = column.type!;
    if (type.list || !info.inputTypes.includes(type.scalar)) {
      throw fieldError(`${at}.function`, `${info.name} takes ${orList(info.inputTypes.map(describeScalar))}, but ${quote(name)} is ${describeType(type)}`);
    }
    column.transformation = transformation.function;
  });
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
