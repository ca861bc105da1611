// Page-granular memory of one migrating VM, in typed arrays only (no per-page objects), so
// that a thousand concurrent migrations of multi-GiB guests fit in memory and in time.
// Arrays exist only while the VM migrates; the migration drops them when it ends.
//
// Guest-physical layout (a model, not a real guest's layout):
//   [0, hot)           writable working set: the only pages the guest writes, so the only
//                      ones that need versions and a dirty log;
//   [hot, total)       cold pages: never written, so their source version is a constant 0
//                      and "present on the destination" is all there is to know about them;
//   [zeroFrom, total)  zero pages (a header on the wire), all outside the working set: a
//                      written page is not zero. When zero share + working set exceed the
//                      memory, the zero share shrinks to what is left;
//   [0, read)          read working set: what the guest touches after a post-copy switch.
// `hot` is rounded up to a multiple of 32 pages so that no bitmap word straddles it.
//
// Tracking unit: by default a PageMap tracks guest pages of 4 KiB, as QEMU does. A layout
// may ask for a coarser unit of `unitPages` guest pages (a power of two up to 64): then every
// bit below stands for that many pages, written, sent and faulted together, and every count
// the map gives out is still in guest pages. Writes already land in runs of 32 KiB, so units
// up to 8 pages change nothing in what is written; coarser units make the runs that long too
// (the mean count of distinct pages written is the same; its spread is larger) and make a
// post-copy fault fetch a whole unit, counted as that many page faults. The work per
// simulated second falls with the unit: datacenter-scale runs take a coarser one.
//
// What the destination holds of a working-set page is one bit, `fresh`: its copy is the
// source's current content. A source write clears it, a send sets it. The consistent-cut
// check is then: every page present and fresh, except pages the destination guest wrote
// after a post-copy switch. (Earlier versions kept a version counter per page on each side;
// a counter was bumped only on the first write after a send, so source and destination
// differed by at most one and "equal versions" was exactly this bit, at two bytes a page.)

import { SKEW_HOT_SHARE, SKEW_WRITE_SHARE, type WritePattern } from '../../preload/model';

export const PAGE_BYTES = 4096;
/** Per-page header on the wire (QEMU sends offset and flags; a zero page is only that). */
export const PAGE_HEADER_BYTES = 16;
export const PAGE_WIRE_BYTES = PAGE_BYTES + PAGE_HEADER_BYTES;
export const PAGES_PER_MIB = 256;
/** Above this many random writes per page of working set, every page counts as written
 *  (the chance that one stays untouched is e^-3 = 5%): keeps a step O(working set). */
const BULK_WRITE_FACTOR = 3;
/**
 * Guest writes land in aligned runs of this many pages (32 KiB) at random places, not in
 * single pages: real guests write with some locality, and it divides the number of random
 * memory accesses of the simulation by eight. Distinct-page statistics keep their mean.
 */
export const WRITE_RUN_PAGES = 8;

/**
 * Above this many page writes into a working set of `pages` every page counts as written:
 * random writes leave one page in e^-3 untouched past BULK_WRITE_FACTOR writes per page,
 * skewed ones past that many per page of the sparser part, a sweep past one pass over it.
 */
export function bulkWrites(pages: number, pattern: WritePattern): number {
  if (pattern === 'sweep') return pages;
  if (pattern === 'skewed') return (BULK_WRITE_FACTOR * pages * (1 - SKEW_HOT_SHARE)) / (1 - SKEW_WRITE_SHARE);
  return BULK_WRITE_FACTOR * pages;
}

export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** A word with the low n bits set (n clamped to 0..32). */
export function lowBits(n: number): number {
  return n <= 0 ? 0 : n >= 32 ? -1 : (1 << n) - 1;
}

const words = (pages: number) => (pages + 31) >>> 5;
/** Index of the lowest set bit of a non-zero word. */
const lowestIndex = (m: number) => 31 - Math.clz32(m & -m);

export interface PageLayout {
  /** Guest pages per tracked unit: a power of two, 1 (page-exact, the default) to MAX_UNIT_PAGES. */
  unitPages?: number;
  memoryMiB: number;
  wssMiB: number;
  readWssMiB: number;
  zeroFraction: number;
  /** Where the guest's writes fall in its working set (default random). */
  writePattern?: WritePattern;
}

export interface CutResult {
  ok: boolean;
  /** Pages that differ from the source at the pause, missing ones included. */
  badPages: number;
  /** Pages never delivered to the destination. */
  missingPages: number;
}

/** 'missing': every page not yet on the destination (round 0, post-copy push); 'dirty': the synced dirty set. */
export type PassMode = 'missing' | 'dirty';

export const MAX_UNIT_PAGES = 64;

export class PageMap {
  /** Guest pages per tracked unit; every index and bit below is a unit. */
  readonly unit: number;
  /** Bytes of a unit on the wire: with data, and a zero unit (headers only). */
  readonly unitWireBytes: number;
  readonly unitHeaderBytes: number;
  readonly total: number;
  readonly hot: number;
  readonly read: number;
  readonly zeroFrom: number;
  /** All pages: 1 = the destination holds a copy. */
  readonly present: Int32Array;
  /** Hot region: the migration bitmap of the current pass. */
  private toSend: Int32Array;
  /**
   * Hot region, two words per 32 pages, side by side so that a write touches one cache line:
   * [2w] the dirty log the guest fills (KVM's; after a post-copy switch, the pages the
   * destination guest wrote), [2w+1] `fresh`: the destination holds the current version.
   */
  private readonly marks: Int32Array;
  presentCount = 0;
  toSendCount = 0;
  dirtyCount = 0;
  /** Read-working-set pages not on the destination. */
  missingRead: number;
  /** Set once the source is paused for good (post-copy): the source is then the snapshot of the cut. */
  dstOwnsWrites = false;
  passMode: PassMode = 'missing';
  passDone = false;
  private passWord = 0;
  /** Bits sent by the last sendWord call. */
  private sent = 0;
  private rng: number;
  private readonly pattern: WritePattern;
  /** Units in one write run, and the mask of a run at bit 0. */
  private readonly runUnits: number;
  private readonly runMask: number;
  /** Runs in the working set, and in its written-most part (skewed writes). */
  private readonly hotRuns: number;
  private readonly skewRuns: number;
  /** Next run a sweeping guest writes. */
  private cursor = 0;

  constructor(layout: PageLayout, seed: number) {
    const unit = layout.unitPages ?? 1;
    if (!Number.isInteger(unit) || unit < 1 || unit > MAX_UNIT_PAGES || (unit & (unit - 1)) !== 0) {
      throw new Error(`tracking unit of ${unit} pages: must be a power of two from 1 to ${MAX_UNIT_PAGES}`);
    }
    this.unit = unit;
    this.unitWireBytes = unit * PAGE_WIRE_BYTES;
    this.unitHeaderBytes = unit * PAGE_HEADER_BYTES;
    const perMiB = PAGES_PER_MIB / unit;
    this.total = Math.max(1, Math.round(layout.memoryMiB * perMiB));
    const wss = Math.min(this.total, Math.round(layout.wssMiB * perMiB));
    this.hot = wss === 0 ? 0 : Math.min(this.total, words(wss) * 32);
    this.read = Math.min(this.total, Math.round(layout.readWssMiB * perMiB));
    const zeros = Math.round(Math.min(1, Math.max(0, layout.zeroFraction)) * this.total);
    this.zeroFrom = Math.max(this.hot, this.total - zeros);
    this.toSend = new Int32Array(words(this.hot));
    this.marks = new Int32Array(2 * words(this.hot));
    this.present = new Int32Array(words(this.total));
    this.missingRead = this.read;
    this.rng = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0;
    this.pattern = layout.writePattern ?? 'random';
    this.runUnits = Math.max(1, WRITE_RUN_PAGES / unit);
    this.runMask = lowBits(this.runUnits);
    this.hotRuns = this.hot / this.runUnits;
    this.skewRuns = Math.max(1, Math.round(this.hotRuns * SKEW_HOT_SHARE));
    // A sweep is somewhere in its working set when the migration starts.
    if (this.hotRuns > 0) this.cursor = this.randomIndex(this.hotRuns);
  }

  /** A uniform random integer in [0, n), from an inline xorshift32 (repeatable, no allocation). */
  randomIndex(n: number): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return Math.floor(((x >>> 0) / 4294967296) * n);
  }

  /** A uniform random number in (0, 1). */
  randomUnit(): number {
    return (this.randomIndex(4294967295) + 1) / 4294967296;
  }

  validMask(w: number): number {
    return lowBits(this.total - (w << 5));
  }

  readMask(w: number): number {
    return lowBits(this.read - (w << 5));
  }

  nonZeroMask(w: number): number {
    return lowBits(this.zeroFrom - (w << 5));
  }

  isPresent(i: number): boolean {
    return (this.present[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /**
   * The next aligned run of WRITE_RUN_PAGES hot pages the guest writes, by its pattern: at
   * random; the next in order (sweep); or at random in the first SKEW_HOT_SHARE of the working
   * set for SKEW_WRITE_SHARE of the writes, else in the rest (skewed). Its word and its mask.
   */
  private randomRun(): number {
    let index: number;
    if (this.pattern === 'sweep') {
      index = this.cursor;
      this.cursor = this.cursor + 1 === this.hotRuns ? 0 : this.cursor + 1;
    } else if (this.pattern === 'skewed' && this.skewRuns < this.hotRuns) {
      index = this.randomUnit() < SKEW_WRITE_SHARE ? this.randomIndex(this.skewRuns) : this.skewRuns + this.randomIndex(this.hotRuns - this.skewRuns);
    } else {
      index = this.randomIndex(this.hotRuns);
    }
    const run = index * this.runUnits;
    this.runWord = run >>> 5;
    return (this.runMask << (run & 31)) & this.validMask(this.runWord);
  }

  /** Guest page writes above which every page of the working set counts as written. */
  private bulkWrites(): number {
    return bulkWrites(this.hot, this.pattern) * this.unit;
  }
  private runWord = 0;

  /** How many runs n guest pages of writes make, carrying the fraction to the next call. */
  private runsFor(n: number): number {
    const runs = n / (this.runUnits * this.unit) + this.runCarry;
    const whole = Math.floor(runs);
    this.runCarry = runs - whole;
    return whole;
  }
  private runCarry = 0;

  /** The source guest writes n guest pages' worth of runs in its working set, by its pattern (the dirty log fills, the destination's copies go stale). */
  writeSource(n: number): void {
    const hot = this.hot;
    if (hot === 0 || n <= 0) return;
    const { marks } = this;
    if (n > this.bulkWrites()) {
      for (let w = 0; 2 * w < marks.length; w++) {
        marks[2 * w] = this.validMask(w);
        marks[2 * w + 1] = 0;
      }
      this.dirtyCount = hot;
      return;
    }
    let count = this.dirtyCount;
    const random = this.pattern === 'random';
    const runs = this.hotRuns;
    const { runUnits, runMask } = this;
    const fullWords = this.total >>> 5;
    let x = this.rng;
    for (let k = this.runsFor(n); k > 0; k--) {
      let word: number;
      let mask: number;
      if (random) {
        // randomRun() inlined for the common pattern: the same xorshift draw, no call.
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const page = Math.floor(((x >>> 0) / 4294967296) * runs) * runUnits;
        word = page >>> 5;
        mask = runMask << (page & 31);
        if (word >= fullWords) mask &= this.validMask(word);
      } else {
        this.rng = x;
        mask = this.randomRun();
        x = this.rng;
        word = this.runWord;
      }
      const w = word << 1;
      marks[w + 1] = marks[w + 1]! & ~mask;
      const added = mask & ~marks[w]!;
      if (added !== 0) {
        marks[w] = marks[w]! | added;
        // A run of one unit (units of 8 pages or more) adds one bit: no count needed.
        count += runUnits === 1 ? 1 : popcount(added);
      }
    }
    this.rng = x;
    this.dirtyCount = count;
  }

  /**
   * The destination guest (after a post-copy switch) writes n guest pages' worth of runs, by
   * its pattern. A write to a page the destination lacks faults it in first, ahead of the
   * background push, within `budget` link bytes; once the link cannot carry another, the
   * rest of the writes wait (the guest stalls on them). Returns the write faults (in guest
   * pages) and their bytes.
   */
  writeDestination(n: number, budget = Number.MAX_SAFE_INTEGER): { faults: number; bytes: number } {
    const out = { faults: 0, bytes: 0 };
    const hot = this.hot;
    if (hot === 0 || n <= 0) return out;
    const { marks, present } = this;
    let stalled = false;
    // The dirty log now marks pages the destination wrote: their copies on the source are old,
    // and the cut's check leaves them out.
    const touch = (w: number, mask: number) => {
      for (let m = mask & ~present[w]!; m !== 0; m &= m - 1) {
        const cost = this.sendPage((w << 5) + lowestIndex(m), budget - out.bytes);
        if (cost === 0) {
          stalled = true;
          break;
        }
        out.bytes += cost;
        out.faults += this.unit;
      }
      marks[2 * w] = marks[2 * w]! | (mask & present[w]!);
    };
    if (n > this.bulkWrites()) for (let w = 0; w < this.toSend.length && !stalled; w++) touch(w, this.validMask(w));
    else
      for (let k = this.runsFor(n); k > 0 && !stalled; k--) {
        const mask = this.randomRun();
        touch(this.runWord, mask);
      }
    return out;
  }

  /** Marks the pages of `bits` in word w as delivered: present, and for hot pages fresh. */
  private deliver(w: number, bits: number): void {
    const base = w << 5;
    const arrived = bits & ~this.present[w]!;
    this.present[w] = this.present[w]! | bits;
    if (arrived !== 0) {
      this.presentCount += popcount(arrived);
      if (base < this.read) this.missingRead -= popcount(arrived & this.readMask(w));
    }
    if (base < this.hot) this.marks[2 * w + 1] = this.marks[2 * w + 1]! | bits;
  }

  /** Sends the pages of `mask` in word w, lowest first, while the budget lasts; returns bytes spent. */
  private sendWord(w: number, mask: number, budget: number): number {
    const nz = mask & this.nonZeroMask(w);
    const whole = popcount(mask) * this.unitHeaderBytes + popcount(nz) * (this.unitWireBytes - this.unitHeaderBytes);
    if (whole <= budget) {
      this.deliver(w, mask);
      this.sent = mask;
      return whole;
    }
    let used = 0;
    let sent = 0;
    for (let m = mask; m !== 0; m &= m - 1) {
      const b = m & -m;
      const cost = (nz & b) !== 0 ? this.unitWireBytes : this.unitHeaderBytes;
      if (used + cost > budget) break;
      used += cost;
      sent |= b;
    }
    if (sent !== 0) this.deliver(w, sent);
    this.sent = sent;
    return used;
  }

  /** Sends one unit ahead of the pass (a post-copy fault); returns bytes spent, 0 if the budget is short. */
  sendPage(i: number, budget: number): number {
    const w = i >>> 5;
    const b = 1 << (i & 31);
    if ((this.present[w]! & b) !== 0) return 0;
    const cost = (this.nonZeroMask(w) & b) !== 0 ? this.unitWireBytes : this.unitHeaderBytes;
    if (cost > budget) return 0;
    this.deliver(w, b);
    return cost;
  }

  startPass(mode: PassMode): void {
    this.passMode = mode;
    this.passWord = 0;
    this.passDone = false;
  }

  /** Continues the current pass in index order within the budget; returns bytes spent. */
  sendPass(budget: number): number {
    const dirty = this.passMode === 'dirty';
    const end = dirty ? this.toSend.length : this.present.length;
    let used = 0;
    while (this.passWord < end) {
      const w = this.passWord;
      const mask = dirty ? this.toSend[w]! : this.validMask(w) & ~this.present[w]!;
      if (mask !== 0) {
        used += this.sendWord(w, mask, budget - used);
        if (dirty) {
          this.toSend[w] = mask & ~this.sent;
          this.toSendCount -= popcount(this.sent);
        }
        if (this.sent !== mask) return used;
      }
      this.passWord++;
    }
    this.passDone = true;
    return used;
  }

  /** Guest pages the current pass still has to send. */
  pendingPages(): number {
    return (this.passMode === 'dirty' ? this.toSendCount : this.total - this.presentCount) * this.unit;
  }

  /** Dirty sync: the dirty log joins the next pass's bitmap and is cleared. Returns how many distinct guest pages it held. */
  syncDirty(): number {
    const synced = this.dirtyCount;
    let count = 0;
    for (let w = 0; w < this.toSend.length; w++) {
      const next = this.toSend[w]! | this.marks[2 * w]!;
      this.toSend[w] = next;
      this.marks[2 * w] = 0;
      if (next !== 0) count += popcount(next);
    }
    this.toSendCount = count;
    this.dirtyCount = 0;
    return synced * this.unit;
  }

  /**
   * Post-copy switch: the source stops for good, and the destination drops every page QEMU's
   * bitmap still calls dirty (the pass's bitmap and the dirty log since the last sync, joined
   * by the switch's final sync): QEMU cannot tell a page written after its send from one
   * written before it, so it discards and sends again both. Stale copies are always among them.
   */
  discardStale(): void {
    for (let w = 0; w < this.toSend.length; w++) {
      const stale = this.present[w]! & (this.toSend[w]! | this.marks[2 * w]! | ~this.marks[2 * w + 1]!);
      this.marks[2 * w] = 0;
      if (stale === 0) continue;
      this.present[w] = this.present[w]! & ~stale;
      this.presentCount -= popcount(stale);
      this.missingRead += popcount(stale & this.readMask(w));
    }
    this.toSend.fill(0);
    this.toSendCount = 0;
    this.dirtyCount = 0;
    this.dstOwnsWrites = true;
  }

  /** A random read-working-set page the destination lacks (the next post-copy fault), or -1. */
  missingReadPage(): number {
    if (this.missingRead <= 0) return -1;
    // During a 'missing' pass every page below the cursor is present: draw above it.
    const lo = this.passMode === 'missing' ? Math.min(this.passWord << 5, this.read - 1) : 0;
    const span = this.read - lo;
    let i = lo;
    for (let tries = 0; tries < 8; tries++) {
      i = lo + this.randomIndex(span);
      if (!this.isPresent(i)) return i;
    }
    // Few pages missing: scan on from the last guess rather than guess forever.
    const end = words(this.read);
    const first = lo >>> 5;
    for (let k = 0, w = i >>> 5; k <= end - first; k++, w = w + 1 < end ? w + 1 : first) {
      const m = ~this.present[w]! & this.readMask(w);
      if (m !== 0) return (w << 5) + lowestIndex(m);
    }
    return -1;
  }

  /**
   * The consistent-cut check: every page is on the destination with the content the source
   * had when it paused (the source is frozen from then on, so it is the snapshot: a fresh
   * copy), except pages the destination guest wrote after a post-copy switch.
   */
  verify(): CutResult {
    let bad = 0;
    let missing = 0;
    for (let w = 0; w < this.present.length; w++) {
      const valid = this.validMask(w);
      const gone = popcount(valid & ~this.present[w]!);
      missing += gone;
      bad += gone;
      const base = w << 5;
      if (base >= this.hot) continue;
      const mine = this.dstOwnsWrites ? this.marks[2 * w]! : 0;
      bad += popcount(this.present[w]! & valid & ~mine & ~this.marks[2 * w + 1]!);
    }
    return { ok: bad === 0, badPages: bad * this.unit, missingPages: missing * this.unit };
  }

  /** Test hook: damages n destination pages (a stale copy, or a lost cold page) so the checker must notice. */
  corrupt(n: number): void {
    for (let k = 0, i = 0; k < n && i < this.total; i++) {
      const w = i >>> 5;
      const b = 1 << (i & 31);
      if (!this.isPresent(i) || (this.dstOwnsWrites && (this.marks[2 * w]! & b) !== 0)) continue;
      if (i < this.hot) {
        if ((this.marks[2 * w + 1]! & b) === 0) continue;
        this.marks[2 * w + 1] = this.marks[2 * w + 1]! & ~b;
      } else {
        this.present[w] = this.present[w]! & ~b;
        this.presentCount--;
      }
      k++;
    }
  }
}
