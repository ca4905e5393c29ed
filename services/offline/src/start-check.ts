import { groupPath } from "./store/commit-paths.js";

/** The offline service will not start over this data root with this catalogue. */
export class StartRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartRefusedError";
  }
}

/**
 * The catalogue's groups as start-up sees them: every `<project>/<group>/v<version>` the change
 * stream mentioned (created, updated or deleted), and every group a commit was recorded under.
 * Deleted groups count: their files may legitimately still lie on disk.
 */
export class KnownGroups {
  readonly #groups = new Set<string>();

  add(project: string, name: string, version: number): void {
    this.#groups.add(groupPath(project, name, version));
  }

  has(path: string): boolean {
    return this.#groups.has(path);
  }

  get size(): number {
    return this.#groups.size;
  }
}

export interface DataRootCheck {
  readonly dataRoot: string;
  readonly metadataAddress: string;
  /** Group versions with published commit directories on disk (`<project>/<group>/v<version>`). */
  readonly onDisk: readonly string[];
  readonly known: KnownGroups;
}

/**
 * The rule: refuse when the data root holds commit directories of at least one group version and
 * the catalogue knows NONE of those group versions. That is what a mistyped DATABASE_URL, an empty
 * or freshly created database, or another installation's database looks like: every file would be
 * unrecorded. One known group is enough to start (a database restored from a backup knows some
 * groups; the unrecorded commits of the rest are moved to the quarantine, never deleted). An empty
 * data root always starts. To start over such a root on purpose, move its contents away first.
 */
export function checkDataRoot(check: DataRootCheck): void {
  if (check.onDisk.length === 0 || check.onDisk.some((g) => check.known.has(g))) return;
  const sample = check.onDisk.slice(0, 5).join(", ");
  throw new StartRefusedError(
    `refusing to start: the data root ${check.dataRoot} holds commits of ${check.onDisk.length} feature group version(s) (${sample}${check.onDisk.length > 5 ? ", …" : ""}) ` +
      `and the catalogue of the metadata service at ${check.metadataAddress} knows none of them (${check.known.size} group version(s) known). ` +
      "Is the metadata service using the right database (DATABASE_URL)? Nothing was moved or deleted. " +
      "Point the metadata service at the database these files belong to, or GRANARY_OFFLINE_DATA_ROOT at the right directory, or move this data root away to start empty.",
  );
}
