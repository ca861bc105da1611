import { describe, expect, it } from 'vitest';
import { PAGE_HEADER_BYTES, PAGE_WIRE_BYTES, PageMap, lowBits, popcount } from '../../main/sim/pages';

const layout = { memoryMiB: 64, wssMiB: 16, readWssMiB: 24, zeroFraction: 0.25 };
const sendAll = (p: PageMap) => {
  p.startPass('missing');
  const bytes = p.sendPass(Number.MAX_SAFE_INTEGER);
  expect(p.passDone).toBe(true);
  return bytes;
};
/** One pre-copy round: sync the dirty log, resend it. */
const resendDirty = (p: PageMap) => {
  p.syncDirty();
  p.startPass('dirty');
  p.sendPass(Number.MAX_SAFE_INTEGER);
  expect(p.passDone).toBe(true);
};

describe('bit helpers', () => {
  it('counts bits and builds masks', () => {
    expect(popcount(0)).toBe(0);
    expect(popcount(-1)).toBe(32);
    expect(popcount(0b1011)).toBe(3);
    expect(popcount(1 << 31)).toBe(1);
    expect(lowBits(0)).toBe(0);
    expect(lowBits(3)).toBe(0b111);
    expect(lowBits(32)).toBe(-1);
    expect(lowBits(40)).toBe(-1);
  });
});

describe('PageMap', () => {
  it('lays out the working set, zero pages and the read set in pages of 4 KiB', () => {
    const p = new PageMap(layout, 1);
    expect(p.total).toBe(64 * 256);
    expect(p.hot).toBe(16 * 256);
    expect(p.read).toBe(24 * 256);
    expect(p.zeroFrom).toBe(p.total - 0.25 * p.total);
  });

  it('round 0 sends every page once; zero pages cost only a header', () => {
    const p = new PageMap(layout, 1);
    const zero = p.total - p.zeroFrom;
    expect(sendAll(p)).toBe((p.total - zero) * PAGE_WIRE_BYTES + zero * PAGE_HEADER_BYTES);
    expect(p.presentCount).toBe(p.total);
    expect(p.verify()).toEqual({ ok: true, badPages: 0, missingPages: 0 });
  });

  it('stops a pass where the budget ends and resumes it', () => {
    const p = new PageMap(layout, 1);
    p.startPass('missing');
    expect(p.sendPass(10 * PAGE_WIRE_BYTES + 5)).toBe(10 * PAGE_WIRE_BYTES);
    expect(p.passDone).toBe(false);
    expect(p.pendingPages()).toBe(p.total - 10);
    p.sendPass(Number.MAX_SAFE_INTEGER);
    expect(p.passDone).toBe(true);
    expect(p.pendingPages()).toBe(0);
  });

  it('writes after a page was sent make the destination stale until the dirty pages are resent', () => {
    const p = new PageMap(layout, 7);
    sendAll(p);
    p.writeSource(500);
    const check = p.verify();
    expect(check.ok).toBe(false);
    expect(check.missingPages).toBe(0);
    expect(check.badPages).toBeGreaterThan(0);
    expect(check.badPages).toBeLessThanOrEqual(500);
    expect(check.badPages).toBe(p.dirtyCount); // every dirtied page is stale, nothing else
    resendDirty(p);
    expect(p.verify().ok).toBe(true);
  });

  it('counts distinct dirty pages, never more than the writes or the working set', () => {
    const p = new PageMap(layout, 3);
    p.writeSource(1000);
    expect(p.dirtyCount).toBeGreaterThan(800);
    expect(p.dirtyCount).toBeLessThanOrEqual(1000 + 8);
    const q = new PageMap(layout, 3);
    q.writeSource(100 * q.hot); // far more writes than pages: every page is dirty
    expect(q.dirtyCount).toBe(q.hot);
    expect(q.syncDirty()).toBe(q.hot);
    expect(q.toSendCount).toBe(q.hot);
  });

  it('the checker catches one corrupted page, hot or cold', () => {
    const p = new PageMap(layout, 1);
    sendAll(p);
    p.corrupt(1);
    expect(p.verify()).toEqual({ ok: false, badPages: 1, missingPages: 0 });
    const cold = new PageMap({ ...layout, wssMiB: 0 }, 1);
    sendAll(cold);
    cold.corrupt(1);
    expect(cold.verify()).toEqual({ ok: false, badPages: 1, missingPages: 1 });
  });

  it('a post-copy switch discards stale pages; pages the destination writes afterwards are its own', () => {
    const p = new PageMap(layout, 5);
    sendAll(p);
    p.writeSource(300);
    const stale = p.dirtyCount;
    p.discardStale();
    expect(p.presentCount).toBe(p.total - stale);
    expect(p.missingRead).toBe(stale); // the working set lies inside the read set
    p.writeDestination(2000);
    p.startPass('missing');
    p.sendPass(Number.MAX_SAFE_INTEGER);
    expect(p.verify().ok).toBe(true);
    p.corrupt(1); // skips the destination's own pages, so this one must be caught
    expect(p.verify().badPages).toBe(1);
  });

  it('after a post-copy switch a write to a missing page faults it in first; a saturated link holds the writes back', () => {
    const fresh = () => {
      const p = new PageMap(layout, 5);
      sendAll(p);
      p.writeSource(4 * p.hot); // every hot page dirtied since the last sync
      p.discardStale(); // so every hot page is missing on the destination
      return p;
    };
    const p = fresh();
    const missingBefore = p.total - p.presentCount;
    expect(missingBefore).toBe(p.hot);
    const w = p.writeDestination(400);
    expect(w.faults).toBeGreaterThan(0);
    expect(w.faults).toBeLessThanOrEqual(400);
    expect(w.bytes).toBe(w.faults * PAGE_WIRE_BYTES); // working-set pages are not zero pages
    expect(p.total - p.presentCount).toBe(missingBefore - w.faults);
    // The cut still holds once the rest is pushed: the faulted pages carry the destination's writes.
    p.startPass('missing');
    p.sendPass(Number.MAX_SAFE_INTEGER);
    expect(p.verify().ok).toBe(true);
    // With room for two pages on the link, two writes fault and the rest wait.
    const q = fresh();
    expect(q.writeDestination(400, 2 * PAGE_WIRE_BYTES)).toEqual({ faults: 2, bytes: 2 * PAGE_WIRE_BYTES });
  });

  it('serves a fault for a missing read page and counts it', () => {
    const p = new PageMap(layout, 9);
    p.startPass('missing');
    const page = p.missingReadPage();
    expect(page).toBeGreaterThanOrEqual(0);
    expect(page).toBeLessThan(p.read);
    expect(p.sendPage(page, PAGE_WIRE_BYTES)).toBe(PAGE_WIRE_BYTES);
    expect(p.isPresent(page)).toBe(true);
    expect(p.missingRead).toBe(p.read - 1);
    expect(p.sendPage(page, PAGE_WIRE_BYTES)).toBe(0); // already there
    sendAll(p);
    expect(p.missingReadPage()).toBe(-1);
  });
});
