import { isCelError } from "@bufbuild/cel";
import { compileExpression, fromCel, toCel, type CompiledExpression, type PlainValue } from "@granary/cel";
import { ColumnRole, type FeatureView } from "@granary/proto/metadata";
import type { DataType } from "@granary/proto/types";

/** An on-demand feature ready to evaluate over rows. */
export interface OnDemandColumn {
  readonly name: string;
  readonly type: DataType;
  readonly expression: CompiledExpression;
  /** The view's feature columns the expression may read. */
  readonly features: ReadonlyMap<string, DataType>;
  readonly parameters: ReadonlyMap<string, DataType>;
}

/** The view's on-demand features compiled once (CEL, with the same inputs as online). */
export function compileOnDemand(view: FeatureView): OnDemandColumn[] {
  const features = new Map(view.outputColumns.filter((c) => c.role === ColumnRole.FEATURE).map((c) => [c.name, c.type!] as const));
  return view.onDemandFeatures.map((f) => {
    const parameters = new Map(f.requestParameters.map((p) => [p.name, p.type!] as const));
    const inputs = new Map([...features, ...parameters]);
    return { name: f.name, type: f.type!, expression: compileExpression(f.expression, inputs, f.type!), features, parameters };
  });
}

/** Every request parameter of the view's on-demand features, by name. */
export function requestParameters(view: FeatureView): Map<string, DataType> {
  return new Map(view.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const)));
}

/**
 * One row's value, exactly as the online service computes it (services/online lookup.ts): every
 * feature bound (null stays null), every parameter required (a null parameter gives null), and a
 * CEL error, such as a division by zero or a null the expression reads, gives null.
 */
export function evaluateRow(
  odf: OnDemandColumn,
  feature: (name: string) => PlainValue | null,
  parameter: (name: string) => PlainValue | null,
): PlainValue | null {
  const bindings: Record<string, unknown> = {};
  for (const [name, type] of odf.features) {
    const v = feature(name);
    bindings[name] = v === null ? null : toCel(type, v);
  }
  for (const [name, type] of odf.parameters) {
    const v = parameter(name);
    if (v === null) return null;
    bindings[name] = toCel(type, v);
  }
  if (odf.expression.inputs.size === 0) return null;
  const result = odf.expression.evaluate(bindings as never);
  if (isCelError(result) || result === null || result === undefined) return null;
  try {
    return fromCel(odf.expression.output, result);
  } catch {
    return null;
  }
}
