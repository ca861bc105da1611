// The guest on the destination after a post-copy switch: it reads its read working set
// at its read rate; a read of a page the destination lacks is a page fault, served ahead
// of the background push at RTT + one page over the link. A fault stalls the faulting
// vCPU for that service time (the other vCPUs go on), and faults can never be served
// faster than the link carries pages: when the step's link budget runs out, the guest
// waits. That is the page-fault storm: fault arrivals outrunning service stall the guest.
// With fault throttling the guest is slowed up front so that faults arrive no faster than
// they can be served (one outstanding per vCPU, at most half the link): the guest runs
// slower but smoothly instead of stalling, and the background push keeps half the link.
import { PAGE_WIRE_BYTES, type PageMap } from './pages';

export const FAULT_RTT_MS = 0.2;
/** Share of the link faults may use when the policy throttles the guest to protect it. */
export const FAULT_LINK_SHARE = 0.5;

export interface DestinationGuest {
  pages: PageMap;
  spanMs: number;
  /** Link bytes available for faults in this span. */
  budget: number;
  /** Link rate, bytes per ms. */
  linkRate: number;
  vcpus: number;
  /** Page reads the guest wants per ms (after the engine's throttle). */
  readPagesPerMs: number;
  throttleFaults: boolean;
}

export interface GuestOutcome {
  bytes: number;
  faults: number;
  /** Share of the wanted reads done, 0..1 (1 - slowdown). */
  progress: number;
  /** Fraction the fault throttle slowed the guest by, 0..1. */
  throttle: number;
}

/** How long one fault keeps its vCPU waiting, ms: the round trip and one page over the link (bytes per ms). */
export function faultServiceMs(linkRate: number): number {
  return FAULT_RTT_MS + PAGE_WIRE_BYTES / linkRate;
}

export function runDestinationGuest(g: DestinationGuest): GuestOutcome {
  const { pages, spanMs } = g;
  // In the map's tracking units (see PageMap): a fault on a unit fetches all its pages, one
  // page fault each.
  const unit = pages.unit;
  const wanted = (g.readPagesPerMs / unit) * spanMs;
  if (wanted <= 0 || pages.read === 0 || g.linkRate <= 0) return { bytes: 0, faults: 0, progress: 1, throttle: 0 };
  const missShare = () => pages.missingRead / pages.read;
  const serviceMs = faultServiceMs(g.linkRate);
  let access = g.readPagesPerMs / unit;
  let throttle = 0;
  if (g.throttleFaults && missShare() > 0) {
    // Faults the host can serve without the guest queueing on them: each vCPU waits for
    // one at a time, and they may take at most a share of the link.
    const capacity = Math.min(g.vcpus / serviceMs, (FAULT_LINK_SHARE * g.linkRate) / PAGE_WIRE_BYTES) / unit;
    const allowed = capacity / missShare();
    if (allowed < access) {
      throttle = 1 - allowed / access;
      access = allowed;
    }
  }
  const perAccess = 1 / access;
  const stallPerFault = (unit * serviceMs) / g.vcpus;
  let time = spanMs;
  let done = 0;
  let bytes = 0;
  let faults = 0;
  while (time > 0) {
    // Reads that hit present pages before the next miss: geometric in the miss share.
    const p = missShare();
    const hits = p <= 0 ? Infinity : p >= 1 ? 0 : Math.floor(Math.log(pages.randomUnit()) / Math.log1p(-p));
    if (hits * perAccess >= time) {
      done += time / perAccess;
      break;
    }
    time -= hits * perAccess;
    done += hits;
    const page = pages.missingReadPage();
    const cost = page < 0 ? 0 : pages.sendPage(page, g.budget - bytes);
    if (cost === 0) break; // the link is saturated: the guest waits out the span
    bytes += cost;
    faults += unit;
    done++;
    time -= perAccess + stallPerFault;
  }
  return { bytes, faults, progress: Math.min(1, done / wanted), throttle };
}
