import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** Every Granary API key starts with this, so a leaked one is easy to recognise in logs and scanners. */
export const API_KEY_PREFIX = "grn_";

const ID_BYTES = 8;
const SECRET_BYTES = 32;
// scrypt's recommended interactive cost (N=2^14, r=8, p=1): ~40 ms on this kind of machine, paid
// once per key per service (verified keys are cached), which makes a stolen hash table expensive.
const SCRYPT: ScryptOptions & { N: number; r: number; p: number } = { N: 16384, r: 8, p: 1 };
const HASH_BYTES = 32;

export interface ApiKeyParts {
  /** Public identifier: stored in clear, shown by ListApiKeys, named in audit entries. */
  readonly id: string;
  readonly secret: string;
}

/** A new key: `grn_<id>_<secret>`, id 16 hex characters, secret 43 base64url characters. */
export function newApiKey(): { token: string; parts: ApiKeyParts } {
  const id = randomBytes(ID_BYTES).toString("hex");
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  return { token: `${API_KEY_PREFIX}${id}_${secret}`, parts: { id, secret } };
}

/** Splits a bearer token into id and secret; undefined when it is not shaped like a Granary key. */
export function parseApiKey(token: string): ApiKeyParts | undefined {
  if (!token.startsWith(API_KEY_PREFIX)) return undefined;
  const rest = token.slice(API_KEY_PREFIX.length);
  const cut = rest.indexOf("_");
  if (cut <= 0) return undefined;
  const id = rest.slice(0, cut);
  const secret = rest.slice(cut + 1);
  if (!/^[a-z0-9]{1,32}$/.test(id) || !/^[A-Za-z0-9_-]{16,128}$/.test(secret)) return undefined;
  return { id, secret };
}

/** A salted scrypt hash, self-describing: `scrypt$N$r$p$<salt>$<hash>` (base64url). */
export async function hashApiKeySecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, HASH_BYTES, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Constant-time check of a secret against a stored hash; false for a malformed hash. */
export async function verifyApiKeySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const options = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * Number(n) * Number(r) };
  const actual = await scryptAsync(secret, Buffer.from(salt, "base64url"), expected.length, options);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function scryptAsync(secret: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}
