import type { TransformationFunction } from "@granary/proto/metadata";
import { CategoryIndex, type CategoryValue } from "./category-index.js";
import { checkValidity, isValidAt, type Validity } from "./validity.js";

/**
 * one_hot_encoder: a category → a float32 vector of `categories.length` (the `width`) with 1 at
 * the category's index. An unseen category and null both give all zeros: no training row looked
 * like that, and one new category must not fail a request.
 */
export class OneHotEncoder {
  readonly outputKind = "one_hot";
  private readonly index: CategoryIndex;

  constructor(
    readonly fn: TransformationFunction,
    readonly column: string,
    categories: readonly string[],
  ) {
    this.index = new CategoryIndex(categories);
  }

  get categories(): readonly string[] {
    return this.index.categories;
  }

  /** Length of every output vector. */
  get width(): number {
    return this.index.categories.length;
  }

  /** The position of the 1, or -1 when the vector is all zeros. */
  indexOf(value: CategoryValue | null | undefined): number {
    return this.index.indexOf(value);
  }

  applyValue(value: CategoryValue | null | undefined): Float32Array {
    const out = new Float32Array(this.width);
    this.applyValueInto(value, out, 0);
    return out;
  }

  /** Writes the vector into `out[offset, offset + width)`, zeros included. */
  applyValueInto(value: CategoryValue | null | undefined, out: Float32Array, offset: number): void {
    const width = this.width;
    if (offset < 0 || offset + width > out.length) {
      throw new RangeError(`out has ${out.length} slots; a ${width}-wide vector at ${offset} does not fit`);
    }
    out.fill(0, offset, offset + width);
    const i = this.index.indexOf(value);
    if (i >= 0) out[offset + i] = 1;
  }

  /** Writes one vector per row, row after row: row i at `out[i * width, (i + 1) * width)`. */
  applyColumn(input: ArrayLike<CategoryValue>, validity: Validity, out: Float32Array): void {
    const n = input.length;
    const width = this.width;
    if (out.length < n * width) throw new RangeError(`out has ${out.length} slots for ${n} rows of ${width}`);
    checkValidity(validity, n);
    out.fill(0, 0, n * width);
    for (let row = 0; row < n; row++) {
      if (!isValidAt(validity, row)) continue;
      const i = this.index.indexOf(input[row]);
      if (i >= 0) out[row * width + i] = 1;
    }
  }
}
