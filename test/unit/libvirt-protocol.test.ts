// libvirt's remote protocol as Ferry writes it: the XDR layout of the header, strings and
// typed parameters; framing across split and coalesced TCP reads with replies out of
// order; errors in libvirt's words; URIs; known_hosts matching and fingerprints.
// The same code is run against real libvirt daemons in test/integration/libvirt.test.ts.
import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decode, encode, HEADER_BYTES, MSG, paramsToRecord, PARAM, PROC, REMOTE_PROGRAM, STATUS, type Header, type TypedParam } from '../../main/libvirt/protocol';
import { LibvirtError, RpcConnection } from '../../main/libvirt/rpc';
import { parseLibvirtUri, peerUri, remoteName } from '../../main/libvirt/uri';
import { fingerprintOf, knownKeys } from '../../main/libvirt/transport';
import { migrationRequest } from '../../main/libvirt/migration';
import { MIGRATE } from '../../main/libvirt/protocol';
import { DEFAULT_POLICY } from '../../preload/model';

describe('XDR layout', () => {
  it('encodes the header as six big-endian words', () => {
    const h: Header = { prog: REMOTE_PROGRAM, vers: 1, proc: PROC.connectOpen, type: MSG.call, serial: 7, status: STATUS.ok };
    const b = encode('header', h);
    expect(b.length).toBe(HEADER_BYTES);
    expect(b.toString('hex')).toBe('20008086' + '00000001' + '00000001' + '00000000' + '00000007' + '00000000');
    expect(decode<Header>('header', b)).toEqual(h);
  });

  it('pads strings to four bytes and marks optional strings present or absent', () => {
    expect(encode('connect_open_args', { name: 'qemu:///system', flags: 0 }).toString('hex')).toBe(
      '00000001' + '0000000e' + Buffer.from('qemu:///system').toString('hex') + '0000' + '00000000',
    );
    expect(encode('connect_open_args', { name: null, flags: 2 }).toString('hex')).toBe('00000000' + '00000002');
  });

  it('round-trips typed parameters of every type, 64-bit values included', () => {
    const params: TypedParam[] = [
      { field: 'i', value: { type: PARAM.int, value: -5 } },
      { field: 'ui', value: { type: PARAM.uint, value: 4_000_000_000 } },
      { field: 'l', value: { type: PARAM.llong, value: -(2 ** 40) } },
      { field: 'memory_processed', value: { type: PARAM.ullong, value: 2 ** 52 + 1 } },
      { field: 'd', value: { type: PARAM.double, value: 0.25 } },
      { field: 'success', value: { type: PARAM.boolean, value: 1 } },
      { field: 'errmsg', value: { type: PARAM.string, value: 'domain is not running' } },
    ];
    const back = decode<{ type: number; params: TypedParam[] }>('domain_get_job_stats_ret', encode('domain_get_job_stats_ret', { type: 3, params }));
    expect(back.type).toBe(3);
    expect(paramsToRecord(back.params)).toEqual({ i: -5, ui: 4_000_000_000, l: -(2 ** 40), memory_processed: 2 ** 52 + 1, d: 0.25, success: true, errmsg: 'domain is not running' });
  });

  it('refuses a reply with trailing bytes instead of guessing', () => {
    const b = Buffer.concat([encode('connect_get_type_ret', { type: 'QEMU' }), Buffer.alloc(4)]);
    expect(() => decode('connect_get_type_ret', b)).toThrow();
  });
});

/** A fake daemon on loopback: answers each call with `answer(header, payload)`, in the order it chooses. */
async function fakeDaemon(onCalls: (calls: { h: Header; payload: Buffer }[], sock: net.Socket) => void, expect: number): Promise<{ port: number; close(): void }> {
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    const calls: { h: Header; payload: Buffer }[] = [];
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const msg = buf.subarray(4, len);
        buf = buf.subarray(len);
        calls.push({ h: decode<Header>('header', msg.subarray(0, HEADER_BYTES)), payload: msg.subarray(HEADER_BYTES) });
        if (calls.length === expect) onCalls(calls, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function frame(h: Header, payload: Buffer): Buffer {
  const head = encode('header', h);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(4 + head.length + payload.length);
  return Buffer.concat([len, head, payload]);
}

describe('RPC connection', () => {
  it('matches replies to calls by serial when they come back out of order and in odd-sized pieces', async () => {
    const d = await fakeDaemon((calls, sock) => {
      const replies = calls
        .map((c) => frame({ ...c.h, type: MSG.reply, status: STATUS.ok }, encode('connect_get_hostname_ret', { hostname: `host-for-${c.h.serial}` })))
        .reverse();
      const all = Buffer.concat(replies);
      // 1, 2, 3... byte pieces: every boundary falls somewhere odd at least once.
      let off = 0;
      for (let n = 1; off < all.length; n++) {
        sock.write(all.subarray(off, off + n));
        off += n;
      }
    }, 3);
    const sock = net.connect(d.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const rpc = new RpcConnection(sock, { label: 'fake' });
    const got = await Promise.all([1, 2, 3].map(() => rpc.call<{ hostname: string }>(PROC.connectGetHostname, null, null, 'connect_get_hostname_ret')));
    expect(got.map((g) => g.hostname)).toEqual(['host-for-1', 'host-for-2', 'host-for-3']);
    rpc.close();
    d.close();
  });

  it("rejects a call with the daemon's own error message, and every pending call when the connection drops", async () => {
    const d = await fakeDaemon((calls, sock) => {
      const err = encode('error', { code: 55, domain: 10, message: 'Requested operation is not valid: domain is not running', level: 2, dom: null, str1: null, str2: null, str3: null, int1: -1, int2: -1, net: null });
      sock.write(frame({ ...calls[0]!.h, type: MSG.reply, status: STATUS.error }, err));
      setTimeout(() => sock.destroy(), 20);
    }, 2);
    const sock = net.connect(d.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const rpc = new RpcConnection(sock, { label: 'kvm-07' });
    const first = rpc.call(PROC.domainAbortJob, null, null, null);
    const second = rpc.call(PROC.domainAbortJob, null, null, null);
    const e = await first.catch((x) => x);
    expect(e).toBeInstanceOf(LibvirtError);
    expect((e as LibvirtError).message).toBe('Requested operation is not valid: domain is not running');
    expect((e as LibvirtError).code).toBe(55);
    await expect(second).rejects.toThrow('kvm-07 closed the connection');
    expect(rpc.closed).toBe(true);
    d.close();
  });

  it('refuses a peer that is not a libvirt daemon (an HTTP server, say) with a sentence', async () => {
    const server = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const rpc = new RpcConnection(sock, { label: 'web' });
    await expect(rpc.call(PROC.authList, null, null, 'auth_list_ret')).rejects.toThrow(/not libvirt's protocol/);
    server.close();
  });
});

describe('libvirt URIs', () => {
  it('reads ssh, tls, tcp and unix URIs with their defaults', () => {
    const s = parseLibvirtUri('qemu+ssh://root@kvm-07.dc1:2222/system?keyfile=/home/ops/.ssh/ferry');
    expect([s.transport, s.user, s.host, s.port, s.params.keyfile]).toEqual(['ssh', 'root', 'kvm-07.dc1', 2222, '/home/ops/.ssh/ferry']);
    expect(remoteName(s)).toBe('qemu:///system');
    expect(parseLibvirtUri('qemu://kvm-08/system').transport).toBe('tls');
    expect(parseLibvirtUri('qemu+tls://kvm-08/system').port).toBe(16514);
    expect(parseLibvirtUri('qemu+tcp://[fd00::8]/system').host).toBe('fd00::8');
    expect(parseLibvirtUri('qemu+unix:///system?socket=/run/x.sock').params.socket).toBe('/run/x.sock');
    expect(peerUri(parseLibvirtUri('qemu+tcp://10.0.0.8:16600/system'))).toBe('qemu+tcp://10.0.0.8:16600/system');
  });

  it('refuses passwords, other hypervisors, unknown transports and parameters, each saying what to do', () => {
    expect(() => parseLibvirtUri('qemu+ssh://root:hunter2@kvm-07/system')).toThrow(/does not take passwords/);
    expect(() => parseLibvirtUri('xen+ssh://kvm-07/system')).toThrow(/must start with qemu/);
    expect(() => parseLibvirtUri('qemu+libssh2://kvm-07/system')).toThrow(/not supported/);
    expect(() => parseLibvirtUri('qemu+tcp://kvm-07/system?pasword=x')).toThrow(/unknown parameter "pasword"/);
    expect(() => parseLibvirtUri('qemu+tcp:///system')).toThrow(/needs a host/);
    expect(() => parseLibvirtUri('kvm-07')).toThrow(/not a libvirt URI/);
  });
});

describe('SSH host keys', () => {
  it('finds a host in plain and hashed known_hosts lines, and prints the fingerprint as ssh-keygen does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    const pub = fs.readFileSync(path.join(dir, 'k.pub'), 'utf8').trim().split(/\s+/);
    const blob = Buffer.from(pub[1]!, 'base64');
    const salt = crypto.randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${crypto.createHmac('sha1', salt).update('[10.9.9.9]:2222').digest('base64')}`;
    fs.writeFileSync(path.join(dir, 'known_hosts'), `kvm-07,10.9.9.7 ${pub[0]} ${pub[1]}\n${hashed} ${pub[0]} ${pub[1]}\n`);
    const files = [path.join(dir, 'known_hosts')];
    expect(knownKeys(files, '10.9.9.7', 22).map((b) => b.equals(blob))).toEqual([true]);
    expect(knownKeys(files, '10.9.9.9', 2222)).toHaveLength(1);
    expect(knownKeys(files, '10.9.9.9', 22)).toHaveLength(0);
    const keygen = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'k.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
    expect(fingerprintOf(blob)).toBe(keygen);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('strategy and policy as libvirt flags', () => {
  it('hybrid enables post-copy and caps both phases at the policy bandwidth; stop-and-copy is not live', () => {
    const h = migrationRequest({ vmId: 'v', fromId: 'a', toId: 'b', strategy: 'hybrid', policy: { ...DEFAULT_POLICY, bandwidthMiBps: 100 } }, 1192);
    expect(h.flags & MIGRATE.postcopy).toBeTruthy();
    expect(h.flags & MIGRATE.live).toBeTruthy();
    expect(h.flags & MIGRATE.peer2peer).toBeTruthy();
    expect(h.params.map((p) => [p.field, p.value.value])).toEqual([['bandwidth', 100], ['bandwidth.postcopy', 100]]);
    const s = migrationRequest({ vmId: 'v', fromId: 'a', toId: 'b', strategy: 'stop-and-copy', policy: DEFAULT_POLICY }, 500);
    expect(s.flags & MIGRATE.live).toBe(0);
    expect(s.flags & MIGRATE.postcopy).toBe(0);
    expect(s.params.map((p) => [p.field, p.value.value])).toEqual([['bandwidth', 500]]);
  });
});
