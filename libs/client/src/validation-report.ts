import { ConnectError } from "@connectrpc/connect";
import { ValidationReportSchema, type ValidationReport } from "@granary/proto/metadata";

/**
 * The validation report of an insert refused by a FAIL rule (FAILED_PRECONDITION), read from the
 * error's standard details; undefined for any other error.
 *
 *     try { await group.insert(rows) } catch (err) { const report = validationReportOf(err) }
 */
export function validationReportOf(err: unknown): ValidationReport | undefined {
  return err instanceof ConnectError ? err.findDetails(ValidationReportSchema)[0] : undefined;
}
