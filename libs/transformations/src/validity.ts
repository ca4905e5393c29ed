/**
 * Which rows of a column hold a value. The caller's validity is never changed: a transformed null
 * stays null because the caller keeps using the same validity for the output.
 *
 * - `undefined`: every row is valid;
 * - `Uint8Array`: one byte per row, valid when it is 1. Anything else is null, so a
 *   `Uint8Array` of `ValueStatus` works as is (PRESENT is 1; NULL, NOT_FOUND, EXPIRED are not);
 * - `ValidityBitmap`: an Arrow validity bitmap, one bit per row, least significant bit first;
 * - a predicate on the row index.
 */
export type Validity = undefined | Uint8Array | ValidityBitmap | ((index: number) => boolean);

/** Arrow's layout (`Data.nullBitmap`, `Data.offset`). An empty bitmap means no nulls, as in Arrow. */
export interface ValidityBitmap {
  readonly bitmap: Uint8Array;
  /** Bit index of row 0; 0 unless the column is a slice. */
  readonly offset?: number;
}

/** Throws a RangeError (a caller bug, not a user error) when `validity` covers fewer than `n` rows. */
export function checkValidity(validity: Validity, n: number): void {
  if (validity instanceof Uint8Array) {
    if (validity.length < n) throw new RangeError(`validity has ${validity.length} bytes for ${n} rows`);
  } else if (validity !== undefined && typeof validity !== "function") {
    const bits = validity.bitmap.length * 8 - (validity.offset ?? 0);
    if (validity.bitmap.length > 0 && bits < n) throw new RangeError(`validity bitmap has ${bits} bits for ${n} rows`);
  }
}

/** Per-row check, for the encoders, whose per-row work (a string lookup) dwarfs it. */
export function isValidAt(validity: Validity, index: number): boolean {
  if (validity === undefined) return true;
  if (validity instanceof Uint8Array) return validity[index] === 1;
  if (typeof validity === "function") return validity(index);
  if (validity.bitmap.length === 0) return true;
  const bit = index + (validity.offset ?? 0);
  return ((validity.bitmap[bit >>> 3]! >>> (bit & 7)) & 1) === 1;
}

/**
 * Writes 0 into the null rows of `out[0, n)`: nulls hold the type's zero value, as in ColumnData,
 * whatever the transformed placeholder would have been. One loop per kind keeps the scalers' hot
 * path free of per-row dispatch.
 */
export function zeroNulls(validity: Validity, n: number, out: Float64Array): void {
  if (validity === undefined) return;
  if (validity instanceof Uint8Array) {
    for (let i = 0; i < n; i++) if (validity[i] !== 1) out[i] = 0;
  } else if (typeof validity === "function") {
    for (let i = 0; i < n; i++) if (!validity(i)) out[i] = 0;
  } else {
    const { bitmap } = validity;
    if (bitmap.length === 0) return;
    const offset = validity.offset ?? 0;
    for (let i = 0; i < n; i++) {
      const bit = i + offset;
      if (((bitmap[bit >>> 3]! >>> (bit & 7)) & 1) === 0) out[i] = 0;
    }
  }
}
