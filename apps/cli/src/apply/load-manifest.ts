import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import { CliError } from "../cli-error.js";
import { checkManifest } from "./manifest.js";
import type { Manifest } from "./manifest-types.js";
import { formatPath, type PathSegment, type Problem } from "./yaml-checker.js";

/** The problems of a manifest file, one line each: `fraud.yaml:14: feature_groups[1].columns[2].type: unknown type "dobule"`. */
export class ManifestError extends CliError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n… and ${problems.length - shown.length} more` : "";
    super(`${shown.join("\n")}${more}`, { exitCode: 2 });
    this.problems = problems;
  }
}

/** A checked manifest, and how to point at a place in its file (for problems found later, against the server). */
export interface ManifestFile {
  readonly manifest: Manifest;
  /** `fraud.yaml:31: feature_views[0].query.select[1]: …` */
  describe(problem: Problem): string;
}

/** Reads and checks a manifest file; every problem is reported at once, each with its line. */
export async function loadManifest(file: string): Promise<ManifestFile> {
  return parseManifest(await readFile(file, "utf8"), basename(file));
}

export function parseManifest(text: string, fileName: string): ManifestFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return `${fileName}${pos ? `:${pos.line}:${pos.col}` : ""}: ${message}`;
      }),
    );
  }
  const { manifest, problems } = checkManifest(doc.toJS({ maxAliasCount: 100 }));
  const describe = (p: Problem) => describeProblem(p, doc, lines, fileName);
  if (problems.length > 0) throw new ManifestError(problems.map(describe));
  return { manifest, describe };
}

function describeProblem(problem: Problem, doc: Document, lines: LineCounter, fileName: string): string {
  const line = lineOf(problem.path, doc, lines);
  const where = formatPath(problem.path);
  return `${fileName}${line ? `:${line}` : ""}: ${where ? `${where}: ` : ""}${problem.message}`;
}

/** The line of the deepest node on the path that exists (a missing field points at its parent). */
function lineOf(path: readonly PathSegment[], doc: Document, lines: LineCounter): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
