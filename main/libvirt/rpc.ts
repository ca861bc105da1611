// One connection to a libvirt daemon: the length-prefixed message framing, call serials
// (many calls in flight on one connection, replies in any order), the keepalive program,
// event messages, and errors decoded into libvirt's own words.
import type { Duplex } from 'node:stream';
import {
  decode, encode, HEADER_BYTES, KEEPALIVE_PING, KEEPALIVE_PONG, KEEPALIVE_PROGRAM, KEEPALIVE_VERSION, MESSAGE_MAX, MSG,
  REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, STATUS, type Header, type RemoteError, type TypeName,
} from './protocol';

/** An error the daemon returned: its own message, and the numbers to tell cases apart. */
export class LibvirtError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly domain: number,
  ) {
    super(message);
  }
}

/** virErrorNumber values Ferry tells apart. */
export const ERR = {
  operationInvalid: 55,
  noDomain: 42,
  authFailed: 45,
  operationAborted: 78,
  migrateUnsafe: 81,
  authUnavailable: 94,
  noSupport: 3,
  operationFailed: 9,
  systemError: 38,
} as const;

export interface RpcOptions {
  /** How the errors name the daemon: "lv-h1 (qemu+tcp://10.0.0.11/system)". */
  label: string;
  /** Silence after which a PING is sent, ms (default 5000). */
  keepaliveMs?: number;
  /** Unanswered PINGs after which the daemon counts as gone (default 5). */
  keepaliveCount?: number;
  /** Default per-call timeout, ms (default 30000; 0: none). */
  callTimeoutMs?: number;
}

interface Pending {
  proc: number;
  retType: TypeName | null;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | null;
}

export class RpcConnection {
  private buf: Buffer = Buffer.alloc(0);
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Map<number, ((payload: Buffer) => void)[]>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closedReason: string | null = null;
  private lastHeard = Date.now();
  private unansweredPings = 0;
  private readonly keepalive: NodeJS.Timeout;
  private readonly keepaliveMs: number;
  private readonly keepaliveCount: number;
  private readonly callTimeoutMs: number;

  constructor(
    private readonly stream: Duplex,
    private readonly opts: RpcOptions,
  ) {
    this.keepaliveMs = opts.keepaliveMs ?? 5000;
    this.keepaliveCount = opts.keepaliveCount ?? 5;
    this.callTimeoutMs = opts.callTimeoutMs ?? 30000;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.resume(); // a transport may hand the stream over paused (TLS, after its check byte)
    stream.on('error', (e: Error) => this.shutdown(`connection to ${opts.label} failed: ${e.message}`));
    stream.on('close', () => this.shutdown(`${opts.label} closed the connection`));
    stream.on('end', () => this.shutdown(`${opts.label} closed the connection`));
    this.keepalive = setInterval(() => this.tick(), Math.max(200, Math.floor(this.keepaliveMs / 2)));
    this.keepalive.unref();
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  get label(): string {
    return this.opts.label;
  }

  /** Calls a remote procedure; resolves with the decoded reply (undefined for void replies). */
  call<R = void>(proc: number, argsType: TypeName | null, args: unknown, retType: TypeName | null, timeoutMs = this.callTimeoutMs): Promise<R> {
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    const serial = this.serial++;
    const payload = argsType ? encode(argsType, args) : Buffer.alloc(0);
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { proc, retType, resolve: resolve as (v: unknown) => void, reject, timer: null };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(serial);
          reject(new Error(`${this.opts.label} did not answer call ${proc} within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
      }
      this.pending.set(serial, p);
      this.send({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type: MSG.call, serial, status: STATUS.ok }, payload);
    });
  }

  /** Event messages of one procedure (e.g. PROC.domainEventCallbackLifecycle). */
  onEvent(proc: number, listener: (payload: Buffer) => void): void {
    const l = this.eventListeners.get(proc) ?? [];
    l.push(listener);
    this.eventListeners.set(proc, l);
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedReason) listener(this.closedReason);
    else this.closeListeners.push(listener);
  }

  close(reason = 'closed by Ferry'): void {
    this.shutdown(reason);
    this.stream.destroy();
  }

  private send(h: Header, payload: Buffer): void {
    const header = encode('header', h);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(4 + header.length + payload.length);
    this.stream.write(Buffer.concat([len, header, payload]));
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = Date.now();
    this.unansweredPings = 0;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len < 4 + HEADER_BYTES || len > MESSAGE_MAX) {
        this.close(`${this.opts.label} sent a message of ${len} bytes: not libvirt's protocol (is this a libvirt daemon's port?)`);
        return;
      }
      if (this.buf.length < len) return;
      const msg = this.buf.subarray(4, len);
      this.buf = this.buf.subarray(len);
      try {
        this.onMessage(decode<Header>('header', msg.subarray(0, HEADER_BYTES)), msg.subarray(HEADER_BYTES));
      } catch (e) {
        this.close(`${this.opts.label} sent a message Ferry cannot read: ${(e as Error).message}`);
        return;
      }
    }
  }

  private onMessage(h: Header, payload: Buffer): void {
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KEEPALIVE_PING) this.send({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_VERSION, proc: KEEPALIVE_PONG, type: MSG.message, serial: 0, status: STATUS.ok }, Buffer.alloc(0));
      return;
    }
    if (h.prog !== REMOTE_PROGRAM) return;
    if (h.type === MSG.message) {
      for (const l of this.eventListeners.get(h.proc) ?? []) {
        try {
          l(payload);
        } catch {
          // one listener's bug must not stop the connection
        }
      }
      return;
    }
    if (h.type !== MSG.reply && h.type !== MSG.replyWithFds) return;
    const p = this.pending.get(h.serial);
    if (!p) return;
    this.pending.delete(h.serial);
    if (p.timer) clearTimeout(p.timer);
    if (h.status === STATUS.ok) {
      try {
        p.resolve(p.retType ? decode(p.retType, payload) : undefined);
      } catch (e) {
        p.reject(new Error(`${this.opts.label}: the reply to call ${p.proc} does not match its definition: ${(e as Error).message}`));
      }
      return;
    }
    let err: RemoteError | null = null;
    try {
      err = decode<RemoteError>('error', payload);
    } catch {
      // fall through with a generic message
    }
    p.reject(new LibvirtError(err?.message ?? `${this.opts.label} refused call ${p.proc} without saying why`, err?.code ?? -1, err?.domain ?? -1));
  }

  private tick(): void {
    if (this.closedReason) return;
    if (Date.now() - this.lastHeard < this.keepaliveMs) return;
    if (this.unansweredPings >= this.keepaliveCount) {
      this.close(`${this.opts.label} did not answer for ${Math.round((Date.now() - this.lastHeard) / 1000)} s (keepalive)`);
      return;
    }
    this.unansweredPings++;
    this.lastHeard = Date.now() - this.keepaliveMs / 2;
    this.send({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_VERSION, proc: KEEPALIVE_PING, type: MSG.message, serial: 0, status: STATUS.ok }, Buffer.alloc(0));
  }

  private shutdown(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    clearInterval(this.keepalive);
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l(reason);
  }
}
