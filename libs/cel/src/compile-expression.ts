import { celEnv, celType, isCelError, parse, plan, type CelInput, type CelResult, type CelType } from "@bufbuild/cel";
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@granary/errors";
import { ScalarType, type DataType } from "@granary/proto/types";
import { celTypeFits, celTypeOf } from "./cel-types.js";
import { GRANARY_CEL_FUNCTION_NAMES, GRANARY_CEL_FUNCTIONS } from "./functions.js";

/** An on-demand feature's expression, checked against its inputs and planned once. */
export interface CompiledExpression {
  readonly expression: string;
  readonly inputs: ReadonlyMap<string, DataType>;
  readonly output: DataType;
  /** Evaluates with CEL-typed bindings (see celTypeOf); a CelError is returned, not thrown. */
  evaluate(bindings: Record<string, CelInput>): CelResult;
}

type Expr = ReturnType<typeof parse>["expr"];

/**
 * Parses, checks and plans a CEL expression over typed inputs. Throws InvalidArgumentError naming
 * the problem: a syntax error, an unknown variable, a type error, or a result of the wrong type.
 *
 * The checker of @bufbuild/cel does not yet handle function calls, so types are checked the way
 * CEL's runtime sees them: by evaluating the plan over typed sample values, where any operator or
 * function applied to the wrong types fails with "no matching overload".
 */
export function compileExpression(expression: string, inputs: ReadonlyMap<string, DataType>, output: DataType): CompiledExpression {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (err) {
    throw new InvalidArgumentError(`expression does not parse: ${firstLine(err)}`, { cause: err });
  }
  const unknown = [...freeIdentifiers(parsed.expr)].filter((name) => !inputs.has(name));
  if (unknown.length > 0) {
    const known = [...inputs.keys()].join(", ") || "none";
    throw new InvalidArgumentError(`expression uses unknown variable ${unknown.map((u) => `"${u}"`).join(", ")} (inputs: ${known})`);
  }
  const variables = Object.fromEntries([...inputs].map(([name, type]) => [name, celTypeOf(type)]));
  const env = celEnv({ variables, funcs: [...GRANARY_CEL_FUNCTIONS] });
  const run = plan(env, parsed) as (bindings: Record<string, CelInput>) => CelResult;

  const results = sampleBindings(inputs).map((b) => run(b));
  const typeError = results.find((r) => isCelError(r) && /no matching overload|unresolved|no such/i.test(r.message));
  if (typeError && isCelError(typeError)) {
    throw new InvalidArgumentError(`expression does not type-check: ${typeError.message}`);
  }
  const values = results.filter((r) => !isCelError(r));
  if (values.length === 0) {
    const first = results[0];
    throw new InvalidArgumentError(`expression fails on every input: ${isCelError(first) ? first.message : "unknown error"}`);
  }
  for (const value of values) {
    const type: CelType = celType(value as never);
    if (!celTypeFits(type, output)) {
      throw new InvalidArgumentError(`expression yields ${type.name} but the feature is declared ${describe(output)}`);
    }
  }
  return { expression, inputs, output, evaluate: run };
}

/** Identifiers the expression reads as variables (not function namespaces, not loop variables). */
function freeIdentifiers(root: Expr | undefined): Set<string> {
  const found = new Set<string>();
  const walk = (e: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (!e) return;
    const k = e.exprKind;
    switch (k.case) {
      case "identExpr":
        if (!bound.has(k.value.name)) found.add(k.value.name);
        return;
      case "selectExpr":
        walk(k.value.operand, bound);
        return;
      case "callExpr": {
        const qualified = k.value.target ? qualifiedName(k.value.target) : undefined;
        const isNamespacedFunction = qualified !== undefined && GRANARY_CEL_FUNCTION_NAMES.includes(`${qualified}.${k.value.function}`);
        if (!isNamespacedFunction) walk(k.value.target, bound);
        k.value.args.forEach((a) => walk(a, bound));
        return;
      }
      case "listExpr":
        k.value.elements.forEach((x) => walk(x, bound));
        return;
      case "structExpr":
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === "mapKey") walk(entry.keyKind.value, bound);
          walk(entry.value, bound);
        }
        return;
      case "comprehensionExpr": {
        const c = k.value;
        walk(c.iterRange, bound);
        walk(c.accuInit, bound);
        const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((v) => v !== ""));
        walk(c.loopCondition, inner);
        walk(c.loopStep, inner);
        walk(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  walk(root, new Set());
  return found;
}

function qualifiedName(e: Expr): string | undefined {
  if (e.exprKind.case === "identExpr") return e.exprKind.value.name;
  if (e.exprKind.case === "selectExpr") {
    const base = e.exprKind.value.operand ? qualifiedName(e.exprKind.value.operand) : undefined;
    return base === undefined ? undefined : `${base}.${e.exprKind.value.field}`;
  }
  return undefined;
}

/** Two sets of typed, non-null sample values, differing so that both branches of simple tests run. */
function sampleBindings(inputs: ReadonlyMap<string, DataType>): Record<string, CelInput>[] {
  return [0, 1].map((i) => Object.fromEntries([...inputs].map(([name, type]) => [name, sampleValue(type, i)])));
}

function sampleValue(type: DataType, i: number): CelInput {
  const scalar = sampleScalar(type.scalar, i);
  return type.list ? ([scalar] as CelInput) : scalar;
}

function sampleScalar(scalar: ScalarType, i: number): CelInput {
  switch (scalar) {
    case ScalarType.BOOL:
      return i === 0;
    case ScalarType.INT32:
    case ScalarType.INT64:
    case ScalarType.DATE:
      return i === 0 ? 3n : 7n;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return i === 0 ? 1.5 : -2.25;
    case ScalarType.STRING:
      return i === 0 ? "a" : "granary";
    case ScalarType.BYTES:
      return new Uint8Array(i === 0 ? [1] : [2, 3]);
    case ScalarType.TIMESTAMP:
      return create(TimestampSchema, { seconds: i === 0 ? 1_700_000_000n : 1_600_000_000n });
    case ScalarType.UNSPECIFIED:
      return null;
  }
}

function describe(type: DataType): string {
  const name = ScalarType[type.scalar].toLowerCase();
  return type.list ? `list of ${name}` : name;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
