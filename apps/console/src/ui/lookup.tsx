import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { FeatureView } from "@granary/proto/metadata";
import type { FeatureVectors } from "@granary/proto/online";
import { ValueStatus, type DataType } from "@granary/proto/types";
import { api } from "./api";
import { ErrorMessage, Loading } from "./components";
import { columnCell, columnFromText, enumLabel, textProblem, typeName } from "./format";

interface Field {
  readonly name: string;
  readonly type: DataType | undefined;
  readonly required: boolean;
  readonly kind: "key" | "param";
}

type Result =
  | { readonly status: "idle" }
  | { readonly status: "loading" }
  | { readonly status: "error"; readonly error: unknown }
  | { readonly status: "done"; readonly vectors: FeatureVectors };

/** One online lookup by serving keys, through the online service's GetFeatureVectors. */
export function LookupForm({ project, view }: { project: string; view: FeatureView }): JSX.Element {
  const fields: Field[] = [
    ...view.servingKeys.map((k) => ({ name: k.name, type: k.type, required: k.required, kind: "key" as const })),
    ...view.onDemandFeatures.flatMap((f) => f.requestParameters).map((p) => ({ name: p.name, type: p.type, required: true, kind: "param" as const })),
  ].filter((f, i, all) => all.findIndex((g) => g.name === f.name && g.kind === f.kind) === i);
  const [values, setValues] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Result>({ status: "idle" });

  if (view.servingKeys.length === 0) return <p class="muted">This view has no serving keys, so it cannot be looked up online.</p>;

  const submit = (e: Event): void => {
    e.preventDefault();
    const found: Record<string, string> = {};
    for (const f of fields) {
      const text = values[`${f.kind}:${f.name}`] ?? "";
      if (!f.required && text.trim() === "") continue;
      const p = textProblem(f.type, text);
      if (p) found[`${f.kind}:${f.name}`] = f.required ? `must be ${p}` : `must be ${p}, or left empty`;
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const column = (f: Field) => ({ name: f.name, data: columnFromText(f.type, values[`${f.kind}:${f.name}`] ?? "") });
    const given = (f: Field) => f.required || (values[`${f.kind}:${f.name}`] ?? "").trim() !== "";
    setResult({ status: "loading" });
    api.online
      .getFeatureVectors({
        project,
        featureView: { name: view.name, version: view.version },
        entities: {
          rowCount: 1,
          servingKeys: fields.filter((f) => f.kind === "key" && given(f)).map(column),
          requestParameters: fields.filter((f) => f.kind === "param").map(column),
        },
      })
      .then(
        (r) => setResult(r.vectors ? { status: "done", vectors: r.vectors } : { status: "error", error: new Error("the online service sent no vectors") }),
        (error: unknown) => setResult({ status: "error", error }),
      );
  };

  return (
    <div class="lookup">
      <form data-testid="lookup-form" onSubmit={submit} class="lookup-form">
        {fields.map((f) => {
          const id = `lookup-${f.kind}-${f.name}`;
          const key = `${f.kind}:${f.name}`;
          return (
            <label key={key} for={id}>
              <span>
                {f.name}{" "}
                <span class="muted small">
                  {typeName(f.type)}
                  {f.kind === "param" ? " · request parameter" : f.required ? "" : " · optional"}
                </span>
              </span>
              <input
                id={id}
                data-testid={f.kind === "key" ? `lookup-key-${f.name}` : `lookup-param-${f.name}`}
                value={values[key] ?? ""}
                onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
                aria-invalid={problems[key] ? "true" : undefined}
              />
              {problems[key] && <span class="field-problem">{problems[key]}</span>}
            </label>
          );
        })}
        <button type="submit" data-testid="lookup-submit" disabled={result.status === "loading"}>
          Look up
        </button>
      </form>
      {result.status === "loading" && <Loading what="the feature vector" />}
      {result.status === "error" && <ErrorMessage error={result.error} />}
      {result.status === "done" && <LookupResult vectors={result.vectors} />}
    </div>
  );
}

const STATUS_TONE: Record<number, string> = {
  [ValueStatus.PRESENT]: "ok",
  [ValueStatus.NULL]: "muted",
  [ValueStatus.NOT_FOUND]: "bad",
  [ValueStatus.EXPIRED]: "warn",
};

function LookupResult({ vectors }: { vectors: FeatureVectors }): JSX.Element {
  return (
    <table class="table compact" data-testid="lookup-result">
      <thead>
        <tr>
          <th>column</th>
          <th>type</th>
          <th>value</th>
          <th>status</th>
        </tr>
      </thead>
      <tbody>
        {vectors.columns.map((c) => {
          const status = c.statuses[0] ?? ValueStatus.UNSPECIFIED;
          const statusName = enumLabel(ValueStatus[status]).replace(/ /g, "_");
          return (
            <tr key={c.name}>
              <td class="mono">{c.name}</td>
              <td class="mono">{typeName(c.type)}</td>
              <td class="mono" data-testid="lookup-value" data-column={c.name} data-status={statusName}>
                {status === ValueStatus.PRESENT ? columnCell(c.values, 0) : "—"}
              </td>
              <td>
                <span class={`badge badge-${STATUS_TONE[status] ?? "muted"}`}>{statusName.replace(/_/g, " ")}</span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
