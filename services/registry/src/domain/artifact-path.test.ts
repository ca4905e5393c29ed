import { describe, expect, it } from "@jest/globals";
import { InvalidArgumentError } from "@granary/errors";
import { normalizeArtifactPath } from "./artifact-path.js";

// Every way a name could climb out of a version's directory once a client writes it to disk.
const TRAVERSAL_TABLE: readonly { path: string; problem: RegExp }[] = [
  { path: "", problem: /is empty/ },
  { path: "..", problem: /'\.\.' segment/ },
  { path: "../etc/passwd", problem: /'\.\.' segment/ },
  { path: "model/../../etc/passwd", problem: /'\.\.' segment/ },
  { path: "model/..", problem: /'\.\.' segment/ },
  { path: "./model.bin", problem: /'\.' segment/ },
  { path: "/etc/passwd", problem: /absolute/ },
  { path: "//server/share/x", problem: /absolute/ },
  { path: "model\\..\\..\\x", problem: /backslash/ },
  { path: "model\\weights.bin", problem: /backslash/ },
  { path: "C:\\Windows\\system32", problem: /backslash|drive letter/ },
  { path: "C:/Windows/system32", problem: /drive letter/ },
  { path: "c:model.bin", problem: /drive letter/ },
  { path: "model/d:weights", problem: /drive letter/ },
  { path: "model\u0000.bin", problem: /NUL/ },
  { path: "model\n.bin", problem: /control character/ },
  { path: "model//weights.bin", problem: /empty segment/ },
  { path: "model/", problem: /empty segment/ },
  { path: "%2e%2e/etc/passwd", problem: /percent-encoded traversal.*'\.\.'/ },
  { path: "%2E%2E/etc/passwd", problem: /percent-encoded traversal.*'\.\.'/ },
  { path: "model/%2e%2e/%2e%2e/x", problem: /percent-encoded traversal/ },
  { path: ".%2e/x", problem: /percent-encoded traversal/ },
  { path: "%252e%252e/x", problem: /percent-encoded traversal/ },
  { path: "..%2fetc", problem: /percent-encoding/ },
  { path: "model%2f..%2f..%2fx", problem: /percent-encoding/ },
  { path: "%2fetc/passwd", problem: /percent-encoding/ },
  { path: "model%5c..%5cx", problem: /percent-encoded traversal.*backslash/ },
  { path: "model%00.bin", problem: /percent-encoded traversal.*NUL/ },
  { path: "%43:%5cx", problem: /drive letter|backslash/ },
  { path: "a/".repeat(512) + "b", problem: /longer than 1024 bytes/ },
  { path: "é".repeat(513), problem: /longer than 1024 bytes/ },
];

const label = (path: string) => (path.length > 40 ? `${JSON.stringify(path.slice(0, 12))}… (${path.length} characters)` : JSON.stringify(path));

describe("artifact paths", () => {
  it.each(TRAVERSAL_TABLE.map((t) => ({ ...t, what: label(t.path) })))("refuses $what", ({ path, problem }) => {
    let thrown: unknown;
    try {
      normalizeArtifactPath(path);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).message).toMatch(/^header\.path: /);
    expect((thrown as InvalidArgumentError).message).toMatch(problem);
    expect((thrown as InvalidArgumentError).field).toBe("header.path");
  });

  it.each(
    (
      [
        ["model.pkl", "model.pkl"],
        ["model/weights.bin", "model/weights.bin"],
        ["images/confusion matrix.png", "images/confusion matrix.png"],
        ["...", "..."],
        ["model/..hidden", "model/..hidden"],
        ["100%.txt", "100%.txt"],
        ["a%20b", "a%20b"],
        ["caf\u0065\u0301.txt", "caf\u00e9.txt"],
        ["x".repeat(1024), "x".repeat(1024)],
      ] as const
    ).map(([path, expected]) => ({ path, expected, what: label(path) })),
  )("keeps $what", ({ path, expected }) => {
    expect(normalizeArtifactPath(path)).toBe(expected);
  });
});
