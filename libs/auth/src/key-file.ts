import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Reads a secret from a file, or creates the file with `make()` when it does not exist yet:
 * exclusively (two services starting at once agree on one value) and with mode 0600.
 */
export function readOrCreateSecretFile(path: string, make: () => string): { value: string; created: boolean } {
  mkdirSync(dirname(path), { recursive: true });
  try {
    const fd = openSync(path, "wx", 0o600);
    const value = make();
    try {
      writeSync(fd, `${value}\n`);
    } finally {
      closeSync(fd);
    }
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const value = readFileSync(path, "utf8").trim();
  if (value === "") throw new Error(`${path} is empty; delete it to have a new secret made, or write one into it`);
  return { value, created: false };
}

/** The secret in a file, or undefined when the file does not exist. */
export function readSecretFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The internal service key: GRANARY_SERVICE_KEY when set, else the key file, made on first start
 * (every service of `npm start` and of one test shares the data directory, so they agree).
 */
export function loadServiceKey(auth: { readonly serviceKey: string | undefined; readonly serviceKeyFile: string }): string {
  if (auth.serviceKey) return auth.serviceKey;
  return readOrCreateSecretFile(auth.serviceKeyFile, () => `grs_${randomBytes(32).toString("base64url")}`).value;
}
