import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError } from "@granary/errors";
import { RuleResultSchema, ValidationPolicy, type FeatureGroup, type RuleResult, type ValidationRule } from "@granary/proto/metadata";
import { ScalarType, ValueSchema, type DataType, type Value } from "@granary/proto/types";
import { type DuckConnection, quoteIdent, quoteString, valueLiteral } from "../duck/index.js";

const EXAMPLES = 5;

/** The outcome of a group's rules on one insert. */
export interface RulesOutcome {
  readonly results: RuleResult[];
  /** Every rule held. */
  readonly success: boolean;
  /** A FAIL rule broke: nothing may be written. */
  readonly rejected: boolean;
}

/**
 * Checks the group's validation rules against the rows of one insert (in `table`), in DuckDB:
 * one aggregate per rule counts evaluated and unexpected values; a few offending values are
 * fetched for the report. Nulls are only judged by not_null.
 */
export async function checkRules(connection: DuckConnection, table: string, group: FeatureGroup, signal?: AbortSignal): Promise<RulesOutcome> {
  const types = new Map(group.columns.map((c) => [c.name, c.type!]));
  const results: RuleResult[] = [];
  for (const rule of group.validationRules) {
    const type = types.get(rule.column);
    if (!type) continue;
    const col = quoteIdent(rule.column);
    const bad = unexpectedSql(rule, col, type);
    const evaluated = rule.rule.case === "notNull" ? "count(*)" : `count(${col})`;
    const unexpected = rule.rule.case === "unique" ? `count(${col}) - count(DISTINCT ${col})` : `count(*) FILTER (WHERE ${bad})`;
    const [row] = await connection.rows(`SELECT ${evaluated} AS evaluated, ${unexpected} AS unexpected FROM ${table}`, signal).catch((err: unknown) => {
      throw ruleError(rule, err);
    });
    const unexpectedCount = BigInt(row!.unexpected as bigint);
    let examples: Value[] = [];
    if (unexpectedCount > 0n && rule.rule.case !== "notNull") {
      const sample =
        rule.rule.case === "unique"
          ? `SELECT ${col}::VARCHAR AS v FROM ${table} WHERE ${col} IS NOT NULL GROUP BY ${col} HAVING count(*) > 1 LIMIT ${EXAMPLES}`
          : `SELECT DISTINCT ${col}::VARCHAR AS v FROM ${table} WHERE ${bad} LIMIT ${EXAMPLES}`;
      examples = (await connection.rows(sample, signal)).map((r) => create(ValueSchema, { kind: { case: "stringValue", value: String(r.v) } }));
    }
    const success = unexpectedCount === 0n;
    results.push(
      create(RuleResultSchema, {
        rule: rule.name,
        column: rule.column,
        policy: rule.policy,
        success,
        evaluatedCount: BigInt(row!.evaluated as bigint),
        unexpectedCount,
        unexpectedExamples: examples,
        message: success ? "" : describeFailure(rule, unexpectedCount),
      }),
    );
  }
  const success = results.every((r) => r.success);
  const rejected = results.some((r) => !r.success && r.policy === ValidationPolicy.FAIL);
  return { results, success, rejected };
}

/**
 * A pattern DuckDB's RE2 cannot compile (lookaround, back-references…) is a fault of the group's
 * definition, which metadata checks since; groups created before that check fail every insert
 * with FAILED_PRECONDITION naming the rule until the rule is redefined.
 */
function ruleError(rule: ValidationRule, err: unknown): unknown {
  // Not `instanceof Error`: the native bindings' errors may come from another realm.
  const message = String((err as { message?: unknown } | null)?.message ?? "");
  if (rule.rule.case !== "regexMatch" || !message.startsWith("Invalid Input Error:")) return err;
  const reason = (message.split("\n")[0] ?? "").replace("Invalid Input Error: ", "");
  return new FailedPreconditionError(
    `validation rule "${rule.name}" on column "${rule.column}": its pattern is not a regular expression DuckDB's RE2 can run (${reason}); redefine the rule`,
    { cause: err },
  );
}

/** SQL true for a value that breaks the rule (never for null, except with not_null). */
function unexpectedSql(rule: ValidationRule, col: string, type: DataType): string {
  const r = rule.rule;
  switch (r.case) {
    case "notNull":
      return `${col} IS NULL`;
    case "between": {
      const parts: string[] = [];
      if (r.value.min !== undefined) parts.push(`${col} < ${literalNumber(r.value.min)}`);
      if (r.value.max !== undefined) parts.push(`${col} > ${literalNumber(r.value.max)}`);
      return parts.length > 0 ? `(${parts.join(" OR ")})` : "false";
    }
    case "valuesInSet": {
      const item = { ...type, list: false } as DataType;
      const set = r.value.values.map((v) => valueLiteral(v, item, `validation rule ${rule.name}`)).join(", ");
      return type.list ? `len(list_filter(${col}, x -> x NOT IN (${set}))) > 0` : `${col} NOT IN (${set})`;
    }
    case "regexMatch":
      return type.scalar === ScalarType.STRING && !type.list ? `NOT regexp_matches(${col}, ${quoteString(r.value.pattern)})` : "false";
    case "unique":
      return "false";
    default:
      return "false";
  }
}

function literalNumber(n: number): string {
  return Number.isFinite(n) ? `${n.toExponential()}::DOUBLE` : n > 0 ? "'inf'::DOUBLE" : "'-inf'::DOUBLE";
}

function describeFailure(rule: ValidationRule, count: bigint): string {
  const r = rule.rule;
  switch (r.case) {
    case "notNull":
      return `${count} null values`;
    case "between":
      return `${count} values outside [${r.value.min ?? "-inf"}, ${r.value.max ?? "inf"}]`;
    case "unique":
      return `${count} repeated values`;
    case "valuesInSet":
      return `${count} values outside the allowed set`;
    case "regexMatch":
      return `${count} values do not match /${r.value.pattern}/`;
    default:
      return `${count} unexpected values`;
  }
}
