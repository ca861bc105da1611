// The map benchmark's in-page instrumentation: runs inside Chromium before the console
// loads (page.addInitScript) and logs every frame, long task and contract call.
export interface FrameLog {
  /** rAF-to-rAF intervals, ms */
  deltas: number[];
  /** most host cards / VM chips / DOM nodes seen at once (sampled every few frames) */
  maxCards: number;
  maxChips: number;
  maxNodes: number;
  /** performance.now() of the first frame with a destination verdict on a card, if any */
  firstVerdictAt: number | null;
  /** hosts that were under the pointer (the .over card) during a drag */
  hovered: string[];
  /** long animation frames (> 50 ms of work, Chromium's LoAF API): duration and what ran */
  long: Array<{ duration: number; scripts: Array<{ what: string; ms: number }> }>;
  startedAt: number;
}

/** One request over the console's WebSocket, timed in the page's clock. */
export interface Call {
  channel: string;
  id: number;
  sentAt: number;
  receivedAt: number | null;
  /** length of the response message, characters (the JSON is ASCII: bytes) */
  chars: number;
}

/** One event pushed by the server. */
export interface Pushed {
  event: string;
  at: number;
  chars: number;
}

export interface BenchApi {
  calls: Call[];
  pushed: Pushed[];
  firstHostAt: number | null;
  firstHostPaintedAt: number | null;
  start(): void;
  stop(): FrameLog;
}

export type BenchWindow = Window & { __bench: BenchApi };

/** Runs in the page before any of its scripts: first-render detection and a frame recorder. */
export function instrument(): void {
  const w = window as unknown as BenchWindow;
  let log: FrameLog | null = null;
  let last: number | null = null;
  let frame = 0;
  const sample = () => {
    if (!log) return;
    log.maxCards = Math.max(log.maxCards, document.getElementsByClassName('host-card').length);
    log.maxChips = Math.max(log.maxChips, document.getElementsByClassName('chip').length);
    log.maxNodes = Math.max(log.maxNodes, document.getElementsByTagName('*').length);
  };
  const tick = (t: number) => {
    if (!log) return;
    if (last !== null) log.deltas.push(t - last);
    last = t;
    if (log.firstVerdictAt === null && document.querySelector('.host-card[data-verdict]')) log.firstVerdictAt = performance.now();
    const over = document.querySelector('.host-card.over')?.getAttribute('data-testid')?.replace(/^host-/, '');
    if (over && !log.hovered.includes(over)) log.hovered.push(over);
    if (++frame % 5 === 0) sample();
    requestAnimationFrame(tick);
  };
  const api: BenchApi = {
    calls: [],
    pushed: [],
    firstHostAt: null,
    firstHostPaintedAt: null,
    start() {
      log = { deltas: [], maxCards: 0, maxChips: 0, maxNodes: 0, firstVerdictAt: null, hovered: [], long: [], startedAt: performance.now() };
      last = null;
      frame = 0;
      requestAnimationFrame(tick);
    },
    stop() {
      sample();
      const l = log!;
      log = null;
      return l;
    },
  };
  w.__bench = api;
  // Frames with more than 50 ms of work, with the scripts that ran in them (Chromium 123+).
  try {
    new PerformanceObserver((list) => {
      if (!log) return;
      for (const e of list.getEntries() as Array<PerformanceEntry & { scripts?: Array<{ invoker?: string; sourceFunctionName?: string; duration: number }> }>) {
        log.long.push({
          duration: e.duration,
          scripts: (e.scripts ?? []).map((sc) => ({ what: `${sc.invoker ?? '?'}${sc.sourceFunctionName ? ` (${sc.sourceFunctionName})` : ''}`, ms: sc.duration })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    /* not supported: no attribution */
  }
  // Time requests and responses where the page sees them: a listener registered before the
  // transport's onmessage, so it runs before the response is parsed and rendered.
  const Native = window.WebSocket;
  const byId = new Map<number, Call>();
  class Traced extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (ev: MessageEvent) => {
        const t = performance.now();
        if (typeof ev.data !== 'string') return;
        const head = ev.data.slice(0, 60);
        const e = /^\{"type":"event","event":"([^"]+)"/.exec(head);
        if (e) api.pushed.push({ event: e[1]!, at: t, chars: ev.data.length });
        const m = /^\{"type":"result","id":(\d+)/.exec(head);
        const call = m ? byId.get(Number(m[1])) : undefined;
        if (!call) return;
        call.receivedAt = t;
        call.chars = ev.data.length;
        byId.delete(call.id);
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && data.length < 10_000) {
        try {
          const msg = JSON.parse(data) as { type?: string; id?: number; channel?: string };
          if (msg.type === 'invoke' && typeof msg.id === 'number') {
            const call: Call = { channel: String(msg.channel), id: msg.id, sentAt: performance.now(), receivedAt: null, chars: 0 };
            api.calls.push(call);
            byId.set(call.id, call);
          }
        } catch {
          /* not ours to judge */
        }
      }
      super.send(data);
    }
  }
  window.WebSocket = Traced;
  // The first host card in the DOM, then the frame that paints it (rAF runs before the
  // paint; a task queued from it runs after).
  const observer = new MutationObserver(() => {
    if (api.firstHostAt !== null || !document.querySelector('[data-testid^="host-"]')) return;
    api.firstHostAt = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => (api.firstHostPaintedAt = performance.now()), 0));
  });
  observer.observe(document, { childList: true, subtree: true });
}
