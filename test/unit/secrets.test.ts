// A secret offered to Ferry goes nowhere: a libvirt URI with a password is refused without
// echoing it, and nothing in the data directory (database, host list, lock) contains it.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeApi } from '../../preload/contract';
import { createApp, type FerryApp } from '../../main/app';
import { parseLibvirtUri, redactUri } from '../../main/libvirt/uri';

const SECRET = 'Planted-S3cret-7f3a';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
}

describe('secrets', () => {
  let dir: string;
  let app: FerryApp | undefined;
  afterEach(async () => {
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a refused URI never echoes its password', () => {
    expect(redactUri(`qemu+ssh://root:${SECRET}@10.0.0.1/system`)).toBe('qemu+ssh://root:***@10.0.0.1/system');
    expect(redactUri(`qemu+tls://h/system?password=${SECRET}&name=x`)).toBe('qemu+tls://h/system?password=***&name=x');
    for (const uri of [`qemu+ssh://root:${SECRET}@10.0.0.1/system`, `qemu+tcp://h/system?password=${SECRET}`, `qemu+ssh://u:${SECRET}@h/nowhere`]) {
      let message = '';
      try {
        parseLibvirtUri(uri);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(SECRET);
    }
  });

  it('nothing in the data directory holds a secret offered through the contract', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-secrets-'));
    app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
    const a = app;
    const api = makeApi({ invoke: (c, r) => a.router.dispatch(c, r), subscribe: (e, l) => a.events.on(e, l as never) });
    for (const uri of [`qemu+ssh://root:${SECRET}@10.0.0.1/system`, `qemu+tls://10.0.0.1/system?passphrase=${SECRET}`]) {
      const err = await api.hosts.add({ uri }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/password|secret/i);
      expect(err?.message).not.toContain(SECRET);
      const test = await api.hosts.test({ uri }).then(() => null, (e: Error) => e);
      expect(test?.message ?? '').not.toContain(SECRET);
    }
    await app.close();
    app = undefined;
    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('ferry.db'))).toBe(true);
    for (const f of files) expect(fs.readFileSync(f).includes(SECRET), f).toBe(false);
  });
});
