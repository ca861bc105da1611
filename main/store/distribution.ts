// Distributions for history summaries. `LogHistogram` has fixed log-spaced buckets (10 %
// wide, 0.1 ms to ~1,000 s) so daily rollups can be stored as blobs and merged cheaply;
// its quantiles are exact to within one bucket (about 5 % of the value). `ExactDist` keeps
// every value, for small filtered sets read straight from the migrations table.
// Both take the same percentile: nearest rank (`nearestRank`), never interpolated, so an
// exact percentile is always one of the values measured.
export interface Dist {
  add(v: number, n?: number): void;
  merge(other: Dist): void;
  readonly count: number;
  quantile(p: number): number | null;
  /** Values at or below each bound, for charts. */
  countAtMost(bound: number): number;
}

/**
 * The percentile method, the one definition: nearest rank. The p-th percentile of n sorted
 * values is the value at 1-based rank ceil(p/100 * n), at least 1: with one value, every
 * percentile is that value; with 100, p99 is the 99th smallest.
 */
export function nearestRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
}

const RATIO = 1.1;
/** A histogram quantile is a bucket's geometric middle: within ±(sqrt(1.1) - 1), about 4.9 %, of the value. */
export const HISTOGRAM_RESOLUTION_PCT = 5;
const MIN = 0.1;
export const BUCKETS = 170;
const LN = Math.log(RATIO);

function bucketOf(v: number): number {
  if (!(v > MIN)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v / MIN) / LN));
}
/** Representative value of a bucket: the geometric middle of its bounds. */
function valueOf(b: number): number {
  if (b === 0) return MIN;
  return MIN * Math.pow(RATIO, b - 0.5);
}

export class LogHistogram implements Dist {
  readonly counts: Float64Array;
  count = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(BUCKETS);
    if (counts) for (const c of counts) this.count += c;
  }

  /** Sparse on disk: (bucket, count) pairs of the non-empty buckets only, a few bytes a row. */
  static fromBlob(blob: Buffer | null): LogHistogram {
    const h = new LogHistogram();
    if (blob) h.addBlob(blob);
    return h;
  }

  /** Adds a stored histogram without materialising it (the summaries' hot loop). */
  addBlob(blob: Buffer): void {
    // Blobs are copied to an aligned buffer only when SQLite hands back an unaligned one.
    const aligned = blob.byteOffset % 4 === 0 ? blob : Buffer.from(blob);
    const pairs = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      this.counts[pairs[i]!]! += pairs[i + 1]!;
      this.count += pairs[i + 1]!;
    }
  }

  toBlob(): Buffer {
    const pairs: number[] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b]) pairs.push(b, this.counts[b]!);
    return Buffer.from(new Uint32Array(pairs).buffer);
  }

  add(v: number, n = 1): void {
    this.counts[bucketOf(v)]! += n;
    this.count += n;
  }

  merge(other: Dist): void {
    if (!(other instanceof LogHistogram)) throw new Error('cannot merge an exact distribution into a histogram');
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
  }

  quantile(p: number): number | null {
    if (!this.count) return null;
    const rank = nearestRank(p, this.count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return valueOf(b);
    }
    return valueOf(BUCKETS - 1);
  }

  countAtMost(bound: number): number {
    const last = bucketOf(bound);
    let n = 0;
    for (let b = 0; b <= last; b++) n += this.counts[b]!;
    return n;
  }
}

export class ExactDist implements Dist {
  private values: number[] = [];
  private sorted = true;

  get count(): number {
    return this.values.length;
  }

  add(v: number, n = 1): void {
    for (let i = 0; i < n; i++) this.values.push(v);
    this.sorted = false;
  }

  merge(other: Dist): void {
    if (!(other instanceof ExactDist)) throw new Error('cannot merge a histogram into an exact distribution');
    this.values.push(...other.values);
    this.sorted = false;
  }

  private sortedValues(): number[] {
    if (!this.sorted) this.values.sort((a, b) => a - b), (this.sorted = true);
    return this.values;
  }

  quantile(p: number): number | null {
    const xs = this.sortedValues();
    if (!xs.length) return null;
    return xs[nearestRank(p, xs.length) - 1]!;
  }

  countAtMost(bound: number): number {
    return this.sortedValues().filter((v) => v <= bound).length;
  }
}
