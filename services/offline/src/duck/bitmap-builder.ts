const POPCOUNT = new Uint8Array(256).map((_, i) => {
  let c = 0;
  for (let b = i; b; b >>= 1) c += b & 1;
  return c;
});

/**
 * An Arrow bitmap (least significant bit first) built by appending bit ranges. As a validity
 * bitmap it stays unallocated while every bit is set, so columns without nulls cost nothing.
 * With `reuse`, take() hands out a view of the builder's storage, valid until the next append,
 * and no batch allocates anew.
 */
export class BitmapBuilder {
  /** Storage; with `reuse` it outlives take(). */
  #bits: Uint8Array | undefined;
  /** Whether #bits holds the bits of this batch (a validity bitmap is materialised on its first clear bit). */
  #live: boolean;
  #length = 0;
  #zeros = 0;
  readonly #eager: boolean;
  readonly #reuse: boolean;

  /** `eager`: always materialise (a bool column's values), not only once a bit is clear. */
  constructor(capacity: number, eager = false, reuse = false) {
    this.#eager = eager;
    this.#reuse = reuse;
    this.#live = eager;
    if (eager) this.#bits = new Uint8Array(Math.ceil(capacity / 8) + 8);
  }

  /** Appends bits [from, from+n) of `src`; `null` means n set bits. */
  appendFrom(src: Uint8Array | null, from: number, n: number): void {
    if (src === null) {
      if (this.#live) this.#setRange(this.#length, n);
      this.#length += n;
      return;
    }
    const bits = this.#materialise(this.#length + n);
    const at = this.#length;
    if ((from & 7) === 0 && (at & 7) === 0) {
      const bytes = Math.ceil(n / 8);
      bits.set(src.subarray(from >>> 3, (from >>> 3) + bytes), at >>> 3);
      const full = n >>> 3;
      let ones = 0;
      for (let i = 0; i < full; i++) ones += POPCOUNT[bits[(at >>> 3) + i]!]!;
      const rest = n & 7;
      if (rest) {
        const last = (at >>> 3) + full;
        bits[last]! &= (1 << rest) - 1;
        ones += POPCOUNT[bits[last]!]!;
      }
      this.#zeros += n - ones;
    } else {
      for (let i = 0; i < n; i++) {
        const s = from + i;
        const d = at + i;
        if ((src[s >>> 3]! >>> (s & 7)) & 1) bits[d >>> 3]! |= 1 << (d & 7);
        else {
          bits[d >>> 3]! &= ~(1 << (d & 7));
          this.#zeros++;
        }
      }
    }
    this.#length += n;
  }

  /** Appends one bit per byte of `bytes[from, from+n)` (set when the byte is non-zero). */
  appendBytes(bytes: Uint8Array, from: number, n: number): void {
    const bits = this.#materialise(this.#length + n);
    for (let i = 0; i < n; i++) {
      const d = this.#length + i;
      if (bytes[from + i]) bits[d >>> 3]! |= 1 << (d & 7);
      else {
        bits[d >>> 3]! &= ~(1 << (d & 7));
        this.#zeros++;
      }
    }
    this.#length += n;
  }

  /** The bitmap of `length` bits and its count of clear bits; the builder starts over. */
  take(length: number): { bitmap: Uint8Array; nullCount: number } {
    const bits = this.#live ? this.#bits : undefined;
    const zeros = this.#zeros;
    this.#length = 0;
    this.#zeros = 0;
    this.#live = this.#eager;
    if (!bits) return { bitmap: new Uint8Array(0), nullCount: 0 };
    const bytes = Math.ceil(length / 8);
    // The bits past the end are left as they were: clear them, as writers do.
    if (length & 7) bits[bytes - 1]! &= (1 << (length & 7)) - 1;
    if (this.#reuse) return { bitmap: bits.subarray(0, bytes), nullCount: zeros };
    if (!this.#eager) this.#bits = undefined;
    else this.#bits = new Uint8Array(bits.length);
    return { bitmap: bits.slice(0, bytes), nullCount: zeros };
  }

  #materialise(bitsNeeded: number): Uint8Array {
    const bytes = Math.ceil(bitsNeeded / 8) + 8;
    if (!this.#live) {
      if (!this.#bits || this.#bits.length < bytes) this.#bits = new Uint8Array(Math.max(bytes, 256, this.#bits?.length ?? 0));
      this.#live = true;
      this.#setRange(0, this.#length);
    } else if (this.#bits!.length < bytes) {
      const grown = new Uint8Array(Math.max(bytes, this.#bits!.length * 2));
      grown.set(this.#bits!);
      this.#bits = grown;
    }
    return this.#bits!;
  }

  #setRange(start: number, n: number): void {
    const bits = this.#materialise(start + n);
    let i = start;
    const end = start + n;
    while (i < end && i & 7) {
      bits[i >>> 3]! |= 1 << (i & 7);
      i++;
    }
    if (end - i >= 8) {
      bits.fill(0xff, i >>> 3, end >>> 3);
      i = end & ~7;
    }
    while (i < end) {
      bits[i >>> 3]! |= 1 << (i & 7);
      i++;
    }
  }
}
