// A QMP (QEMU Machine Protocol) client: one line of JSON per message over a unix or TCP
// socket. The greeting, `qmp_capabilities`, commands matched to replies by id, each with
// its own timeout, and asynchronous events. A peer that closes, stalls or sends
// malformed or oversized lines produces a QmpError, never an exception escaping into the
// event loop: QEMU is another process and may die at any moment (that is exactly what a
// destination killed mid-migration looks like).
import net from 'node:net';

export type QmpErrorCode = 'connect' | 'closed' | 'timeout' | 'protocol' | 'oversized' | 'command';

export class QmpError extends Error {
  constructor(
    readonly code: QmpErrorCode,
    message: string,
    /** For 'command': QEMU's error class, e.g. GenericError, CommandNotFound. */
    readonly qmpClass?: string,
  ) {
    super(message);
    this.name = 'QmpError';
  }
}

export type QmpTarget = { path: string } | { host: string; port: number };

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  /** Milliseconds since the epoch, from QEMU's timestamp. */
  at: number;
}

export interface QmpOptions {
  /** Time allowed for connect + greeting + capabilities. */
  connectTimeoutMs?: number;
  /** Default per-command timeout. */
  commandTimeoutMs?: number;
  /** Longest line accepted from the peer; beyond it the connection is dropped. */
  maxLineBytes?: number;
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: QmpError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULTS = { connectTimeoutMs: 5000, commandTimeoutMs: 10_000, maxLineBytes: 1024 * 1024 };

function describe(target: QmpTarget): string {
  return 'path' in target ? target.path : `${target.host}:${target.port}`;
}

export class QmpClient {
  /** QEMU's version from the greeting, e.g. "7.2.22". */
  version = '';
  private socket: net.Socket;
  private buf = '';
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private listeners = new Set<(e: QmpEvent) => void>();
  private closeListeners = new Set<(err: QmpError) => void>();
  private failure: QmpError | null = null;
  private greeted: ((err: QmpError | null) => void) | null = null;
  private readonly opts: Required<QmpOptions>;

  private constructor(
    socket: net.Socket,
    readonly target: QmpTarget,
    opts: QmpOptions,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new QmpError('closed', `QMP connection to ${describe(target)} failed: ${e.message}`)));
    socket.on('close', () => this.fail(new QmpError('closed', `QEMU closed the QMP connection (${describe(target)})`)));
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static connect(target: QmpTarget, opts: QmpOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    return new Promise((resolve, reject) => {
      const socket = 'path' in target ? net.createConnection(target.path) : net.createConnection(target.port, target.host);
      let client: QmpClient | null = null;
      let settled = false;
      const finish = (err: QmpError | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          client?.fail(err);
          reject(err);
        } else resolve(client!);
      };
      const timer = setTimeout(
        () => finish(new QmpError('timeout', `no QMP greeting from ${describe(target)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (e) => finish(new QmpError('connect', `cannot connect to QMP at ${describe(target)}: ${e.message}`)));
      socket.once('connect', () => {
        client = new QmpClient(socket, target, opts);
        client.greeted = (err) => {
          if (err) return finish(err);
          client!
            .execute('qmp_capabilities', undefined, { timeoutMs })
            .then(() => finish(null))
            .catch((e: QmpError) => finish(e));
        };
        client.onClose((e) => finish(e));
      });
    });
  }

  /** Connects, retrying while the socket is not there yet (QEMU just started). */
  static async connectWithRetry(target: QmpTarget, deadlineMs: number, opts: QmpOptions = {}): Promise<QmpClient> {
    const end = Date.now() + deadlineMs;
    let last: unknown;
    for (;;) {
      try {
        return await QmpClient.connect(target, { ...opts, connectTimeoutMs: Math.max(500, Math.min(opts.connectTimeoutMs ?? 5000, end - Date.now())) });
      } catch (e) {
        last = e;
        if (!(e instanceof QmpError) || e.code !== 'connect' || Date.now() + 100 > end) throw last;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  get isOpen(): boolean {
    return this.failure === null;
  }

  /** Runs one command; resolves with its `return`, rejects with a QmpError. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = `ferry-${this.nextId++}`;
    const timeoutMs = opts.timeoutMs ?? this.opts.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A stalled peer: this command fails; a late reply with this id is dropped.
        this.pending.delete(id);
        reject(new QmpError('timeout', `QEMU did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      const msg: Record<string, unknown> = { execute: command, id };
      if (args) msg.arguments = args;
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Subscribes to asynchronous events; returns the disposer. */
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the connection ends for any reason (not after close() by us). */
  onClose(listener: (err: QmpError) => void): () => void {
    if (this.failure) {
      const f = this.failure;
      queueMicrotask(() => listener(f));
    } else this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Resolves with the first event named `event` that passes `match`, or rejects at timeout/close. */
  waitForEvent(event: string, timeoutMs: number, match: (e: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.event === event && match(e)) {
          cleanup();
          resolve(e);
        }
      });
      const offClose = this.onClose((err) => {
        cleanup();
        reject(err);
      });
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpError('timeout', `no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        off();
        offClose();
        clearTimeout(timer);
      };
    });
  }

  close(): void {
    if (this.failure) return;
    this.closeListeners.clear();
    this.fail(new QmpError('closed', 'QMP connection closed by Ferry'));
  }

  private onData(chunk: string): void {
    if (this.failure) return;
    this.buf += chunk;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (Buffer.byteLength(line) > this.opts.maxLineBytes) return this.oversized();
      if (line) this.onLine(line);
      if (this.failure) return;
    }
    if (Buffer.byteLength(this.buf) > this.opts.maxLineBytes) this.oversized();
  }

  private oversized(): void {
    this.fail(new QmpError('oversized', `QEMU sent a QMP line longer than ${this.opts.maxLineBytes} bytes; connection dropped`));
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      // A stream that is not JSON lines cannot be trusted to match replies to commands.
      return this.fail(new QmpError('protocol', `QEMU sent malformed QMP (not JSON): ${line.slice(0, 80)}`));
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.fail(new QmpError('protocol', `QEMU sent a QMP message that is not an object: ${line.slice(0, 80)}`));
    }
    const m = msg as Record<string, unknown>;
    if (this.greeted) {
      const greeted = this.greeted;
      this.greeted = null;
      const qmp = m.QMP as { version?: { qemu?: { major?: number; minor?: number; micro?: number } } } | undefined;
      if (!qmp) return greeted(new QmpError('protocol', 'the peer did not greet with QMP (is this a QMP socket?)'));
      const v = qmp.version?.qemu;
      if (v) this.version = `${v.major}.${v.minor}.${v.micro}`;
      return greeted(null);
    }
    if (typeof m.event === 'string') {
      const ts = m.timestamp as { seconds?: number; microseconds?: number } | undefined;
      const at = ts && typeof ts.seconds === 'number' ? ts.seconds * 1000 + Math.round((ts.microseconds ?? 0) / 1000) : Date.now();
      const ev: QmpEvent = { event: m.event, data: (m.data as Record<string, unknown>) ?? {}, at };
      for (const l of [...this.listeners]) {
        try {
          l(ev);
        } catch {
          // A listener's bug must not take the connection down.
        }
      }
      return;
    }
    const id = typeof m.id === 'string' ? m.id : null;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return; // late reply to a timed-out command, or an unsolicited reply
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('return' in m) return p.resolve(m.return);
    const err = m.error as { class?: string; desc?: string } | undefined;
    if (err) return p.reject(new QmpError('command', `${p.command}: ${err.desc ?? 'failed'}`, err.class));
    p.reject(new QmpError('protocol', `QEMU answered ${p.command} with neither return nor error`));
  }

  private fail(err: QmpError): void {
    if (this.failure) return;
    this.failure = err;
    this.buf = '';
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    if (this.greeted) {
      const g = this.greeted;
      this.greeted = null;
      g(err);
    }
    for (const l of [...this.closeListeners]) {
      try {
        l(err);
      } catch {
        // ignore listener bugs
      }
    }
    this.closeListeners.clear();
    this.listeners.clear();
  }
}
