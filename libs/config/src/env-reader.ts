/** The environment a config is loaded from: process.env in production, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Every missing or invalid key of a config, reported at once so one restart fixes them all. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

interface Bounds {
  min?: number;
  max?: number;
}

/**
 * Reads typed values from an environment, collecting problems instead of throwing on the first one.
 * Call `finish()` once every key is read: it throws a ConfigError listing all problems.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(env: Env) {
    this.#env = env;
  }

  #raw(key: string): string | undefined {
    const value = this.#env[key];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(key: string, fallback: string): string {
    return this.#raw(key) ?? fallback;
  }

  optionalString(key: string): string | undefined {
    return this.#raw(key);
  }

  requiredString(key: string): string {
    const value = this.#raw(key);
    if (value === undefined) {
      this.#problems.push(`${key} is required`);
      return "";
    }
    return value;
  }

  int(key: string, fallback: number, bounds: Bounds = {}): number {
    const raw = this.#raw(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      this.#problems.push(`${key} must be an integer, got "${raw}"`);
      return fallback;
    }
    return this.#checkBounds(key, value, bounds) ? value : fallback;
  }

  port(key: string, fallback: number): number {
    return this.int(key, fallback, { min: 0, max: 65535 });
  }

  bool(key: string, fallback: boolean): boolean {
    const raw = this.#raw(key)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.#problems.push(`${key} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<const T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const raw = this.#raw(key);
    if (raw === undefined) return fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    this.#problems.push(`${key} must be one of ${choices.join(", ")}, got "${raw}"`);
    return fallback;
  }

  /** A URL with one of the given schemes, such as postgres: or http:. */
  optionalUrl(key: string, schemes: readonly string[]): string | undefined {
    const raw = this.#raw(key);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      this.#problems.push(`${key} must be a URL, got "${redact(raw)}"`);
      return undefined;
    }
    if (!schemes.includes(url.protocol)) {
      this.#problems.push(`${key} must use ${schemes.join(" or ")}, got "${url.protocol}"`);
      return undefined;
    }
    return raw;
  }

  /** host:port, as clients dial another service. */
  address(key: string, fallback: string): string {
    const raw = this.#raw(key) ?? fallback;
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(raw)) {
      this.#problems.push(`${key} must be host:port, got "${raw}"`);
      return fallback;
    }
    return raw;
  }

  /** host:port, https://host:port or http://host:port (no path), as services dial each other. */
  serviceAddress(key: string, fallback: string): string {
    const raw = this.#raw(key) ?? fallback;
    const m = /^(https?:\/\/)?([^/]*?)\/?$/.exec(raw);
    if (!m || !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(m[2]!)) {
      this.#problems.push(`${key} must be host:port, https://host:port or http://host:port, got "${raw}"`);
      return fallback;
    }
    return raw.replace(/\/$/, "");
  }

  /** Reports a problem found by the caller's own cross-field checks. */
  problem(message: string): void {
    this.#problems.push(message);
  }

  finish(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  #checkBounds(key: string, value: number, { min, max }: Bounds): boolean {
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      this.#problems.push(`${key} must be between ${min ?? "-∞"} and ${max ?? "∞"}, got ${value}`);
      return false;
    }
    return true;
  }
}

/** Hides a password in a URL before it appears in an error message. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
