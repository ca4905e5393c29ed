import { checkIdentifier } from "@granary/catalogue-rules";
import { InvalidArgumentError } from "@granary/errors";

/** The largest group version a subject may carry: versions are int32 in the catalogue. */
const MAX_VERSION = 2 ** 31 - 1;
const VERSION_TOKEN = /^v([1-9][0-9]{0,9})$/;
/** A subject prefix: dot-separated tokens without NATS wildcards or whitespace. */
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Where a batch of one feature group version goes: `<prefix>.<project>.<group>.v<version>`. */
export interface GroupAddress {
  readonly project: string;
  readonly group: string;
  readonly version: number;
}

/**
 * Subject names of one write log and of its dead letters. Project and group names are the
 * catalogue's identifiers (`^[a-z][a-z0-9_]{0,62}$`, libs/catalogue-rules), so they are always
 * single NATS subject tokens: no dot, no wildcard (`*`, `>`), no whitespace. Anything else is
 * refused rather than escaped, so the subject of a message is readable by any NATS client.
 */
export class LogSubjects {
  readonly prefix: string;
  readonly deadPrefix: string;

  constructor(prefix: string, deadPrefix: string) {
    for (const [name, value] of [
      ["subject prefix", prefix],
      ["dead-letter subject prefix", deadPrefix],
    ] as const) {
      if (!PREFIX.test(value)) throw new InvalidArgumentError(`${name} ${JSON.stringify(value)} must be dot-separated tokens of letters, digits, _ or -`);
    }
    if (prefix === deadPrefix || deadPrefix.startsWith(`${prefix}.`) || prefix.startsWith(`${deadPrefix}.`)) {
      throw new InvalidArgumentError(`the dead-letter subjects (${deadPrefix}) must not overlap the log's (${prefix})`);
    }
    this.prefix = prefix;
    this.deadPrefix = deadPrefix;
  }

  /** The subject of a group version's batches; INVALID_ARGUMENT naming the field when a name is not an identifier. */
  subject(address: GroupAddress): string {
    checkAddress(address);
    return `${this.prefix}.${address.project}.${address.group}.v${address.version}`;
  }

  /** Every subject of the log, or of one project. */
  filter(project?: string): string {
    if (project === undefined) return `${this.prefix}.>`;
    checkIdentifier(project, "project", "project");
    return `${this.prefix}.${project}.>`;
  }

  /** Where a message of `subject` goes when it is refused: the same tokens under the dead-letter prefix. */
  deadSubject(subject: string): string {
    const parsed = this.parse(subject);
    if (parsed !== undefined) return `${this.deadPrefix}.${parsed.project}.${parsed.group}.v${parsed.version}`;
    // A message whose subject does not name a group still lands with its project when the project
    // token is an identifier, so `listDeadLetters(project)` shows it; otherwise under `_invalid`,
    // which no project can be called (identifiers start with a letter).
    const project = this.#projectToken(subject);
    return project === undefined ? `${this.deadPrefix}._invalid` : `${this.deadPrefix}.${project}._invalid`;
  }

  /** Every dead-letter subject of a project. */
  deadFilter(project: string): string {
    if (project !== "_invalid") checkIdentifier(project, "project", "project");
    return `${this.deadPrefix}.${project}${project === "_invalid" ? "" : ".>"}`;
  }

  /** The address in a log subject, or undefined when the subject is not one this log writes. */
  parse(subject: string): GroupAddress | undefined {
    const tokens = subject.split(".");
    const own = this.prefix.split(".").length;
    if (tokens.length !== own + 3 || !subject.startsWith(`${this.prefix}.`)) return undefined;
    const [project, group, versionToken] = tokens.slice(own) as [string, string, string];
    const match = VERSION_TOKEN.exec(versionToken);
    const version = match ? Number(match[1]) : NaN;
    const address = { project, group, version };
    try {
      checkAddress(address);
    } catch {
      return undefined;
    }
    return address;
  }

  /** The project of a dead-letter subject, as listDeadLetters files it. */
  deadProject(subject: string): string {
    const token = subject.slice(this.deadPrefix.length + 1).split(".")[0];
    return token ?? "_invalid";
  }

  #projectToken(subject: string): string | undefined {
    if (!subject.startsWith(`${this.prefix}.`)) return undefined;
    const token = subject.slice(this.prefix.length + 1).split(".")[0] ?? "";
    try {
      checkIdentifier(token, "project", "project");
      return token;
    } catch {
      return undefined;
    }
  }
}

const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A durable consumer's name: one JetStream name token (no dot, wildcard or whitespace). */
export function checkConsumerName(name: string): void {
  if (!CONSUMER_NAME.test(name))
    throw new InvalidArgumentError(`consumer name ${JSON.stringify(name)} must be 1 to 64 letters, digits, _ or -`, { field: "name" });
}

function checkAddress(address: GroupAddress): void {
  checkIdentifier(address.project, "project", "project");
  checkIdentifier(address.group, "feature_group.name", "feature group name");
  if (!Number.isInteger(address.version) || address.version < 1 || address.version > MAX_VERSION) {
    throw new InvalidArgumentError(`feature_group.version: ${String(address.version)} must be an integer from 1 to ${MAX_VERSION}`, {
      field: "feature_group.version",
    });
  }
}
