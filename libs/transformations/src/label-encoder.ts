import type { TransformationFunction } from "@granary/proto/metadata";
import { CategoryIndex, type CategoryValue } from "./category-index.js";
import { checkValidity, isValidAt, type Validity } from "./validity.js";

/**
 * label_encoder: a category → its index in the training split's sorted categories, as an int64
 * (held as a safe-integer number). A category the training split never saw → -1, a value no
 * model input was trained on, rather than an error: one new category must not fail a request.
 */
export class LabelEncoder {
  readonly outputKind = "int64";
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

  applyValue(value: CategoryValue): number {
    return this.index.indexOf(value);
  }

  /**
   * Encodes `input` into `out[0, input.length)`. Null rows get 0, the ColumnData zero value; the
   * caller's validity keeps marking them null (null is not an unseen category, so not -1).
   */
  applyColumn(input: ArrayLike<CategoryValue>, validity: Validity, out: Float64Array | Int32Array | number[]): void {
    const n = input.length;
    if (out.length < n) throw new RangeError(`out has ${out.length} slots for ${n} rows`);
    checkValidity(validity, n);
    for (let i = 0; i < n; i++) out[i] = isValidAt(validity, i) ? this.index.indexOf(input[i]) : 0;
  }

  /** The category encoded as `label`, or undefined for -1 and anything out of range. */
  inverseValue(label: number): string | undefined {
    return Number.isInteger(label) && label >= 0 ? this.index.categories[label] : undefined;
  }
}
