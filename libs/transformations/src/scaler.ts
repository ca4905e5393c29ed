import type { TransformationFunction } from "@granary/proto/metadata";
import { affineInto, type NumericColumn } from "./numeric-column.js";
import { checkValidity, zeroNulls, type Validity } from "./validity.js";

/**
 * min_max_scaler, standard_scaler and robust_scaler are one affine map, `(x - center) / scale`,
 * with the parameters taken from different statistics (see fitTransformation):
 *
 * | function        | center | scale       |
 * |-----------------|--------|-------------|
 * | min_max_scaler  | min    | max - min   |
 * | standard_scaler | mean   | stddev      |
 * | robust_scaler   | p50    | p75 - p25   |
 *
 * A scale of 0 (a constant training column) maps every value to 0 rather than to NaN or ±Infinity.
 * The divisor is kept as is (no precomputed reciprocal) so results equal the formula bit for bit.
 */
export class Scaler {
  readonly outputKind = "double";
  readonly categories: undefined = undefined;

  constructor(
    readonly fn: TransformationFunction,
    readonly column: string,
    readonly center: number,
    readonly scale: number,
  ) {}

  applyNumber(x: number): number {
    return this.scale === 0 ? 0 : (x - this.center) / this.scale;
  }

  /**
   * Transforms `input` into `out[0, input.length)`, allocating nothing per row. Null rows (per
   * `validity`) get 0, the ColumnData zero value; the caller's validity keeps marking them null.
   */
  applyColumn(input: NumericColumn, validity: Validity, out: Float64Array): void {
    const n = input.length;
    if (out.length < n) throw new RangeError(`out has ${out.length} slots for ${n} rows`);
    checkValidity(validity, n);
    if (this.scale === 0) out.fill(0, 0, n);
    else affineInto(input, this.center, this.scale, out);
    zeroNulls(validity, n, out);
  }

  /**
   * The value that transforms to `y`: for reading a prediction made on a scaled label. When the
   * scale is 0 every value mapped to 0, so the best answer is the constant training value.
   */
  inverseNumber(y: number): number {
    return this.scale === 0 ? this.center : y * this.scale + this.center;
  }
}
