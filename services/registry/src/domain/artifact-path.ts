import { fieldError, quote } from "./field-error.js";

export const MAX_PATH_BYTES = 1024;

/**
 * The canonical form of an artifact path, or INVALID_ARGUMENT naming what is wrong with it.
 *
 * Artifact paths are names inside a version ("model/weights.bin"), never filesystem paths: blobs
 * are stored by digest. They are still confined as if they were, because clients write them to
 * disk when they download a version: a path must be relative, '/'-separated, without '.', '..' or
 * empty segments, without backslashes, NUL or other control characters, without a drive letter,
 * and without any of these hidden behind percent-encoding (decoded repeatedly, so "%252e%252e"
 * counts as ".."). The result is Unicode NFC, so one name has one spelling.
 */
export function normalizeArtifactPath(raw: string, field = "header.path"): string {
  const path = raw.normalize("NFC");
  const problem = pathProblem(path);
  if (problem) throw fieldError(field, `${quote(raw)} ${problem}`);
  let decoded = path;
  for (let round = 0; round < 4 && decoded.includes("%"); round++) {
    const next = percentDecode(decoded);
    if (next === decoded) break;
    decoded = next;
    if (decoded.split("/").length !== path.split("/").length) {
      throw fieldError(field, `${quote(raw)} hides a '/' in percent-encoding`);
    }
    const hidden = pathProblem(decoded);
    if (hidden) throw fieldError(field, `${quote(raw)} is percent-encoded traversal: decoded, it ${hidden}`);
  }
  if (Buffer.byteLength(path, "utf8") > MAX_PATH_BYTES) {
    throw fieldError(field, `${quote(raw)} is longer than ${MAX_PATH_BYTES} bytes`);
  }
  return path;
}

function pathProblem(path: string): string | undefined {
  if (path === "") return "is empty";
  if (path.includes("\u0000")) return "contains NUL";
  if (/[\u0001-\u001f\u007f]/.test(path)) return "contains a control character";
  if (path.includes("\\")) return "contains a backslash; separate segments with '/'";
  if (path.startsWith("/")) return "is absolute; give a path relative to the version";
  if (/^[A-Za-z]:/.test(path) || path.split("/").some((s) => /^[A-Za-z]:/.test(s))) return "contains a drive letter";
  const segments = path.split("/");
  if (segments.some((s) => s === "..")) return "contains a '..' segment";
  if (segments.some((s) => s === ".")) return "contains a '.' segment";
  if (segments.some((s) => s === "")) return "contains an empty segment ('//' or a trailing '/')";
  return undefined;
}

/** Decodes %XX sequences byte-wise as UTF-8; a malformed sequence is left as it is. */
function percentDecode(s: string): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(run.replace(/%/g, ""), "hex");
    const text = bytes.toString("utf8");
    return text.includes("\ufffd") ? run : text;
  });
}
