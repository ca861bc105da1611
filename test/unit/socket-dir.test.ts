// The short socket directory for deep data directories lives in the shared temporary
// directory: Ferry uses it only when it is a real directory, its own, and closed to others.
import { afterEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { socketDir } from '../../main/data-dir';

const deep = (tag: string) => path.join(os.tmpdir(), `ferry-deep-${tag}-${crypto.randomUUID()}`, 'a'.repeat(90));
const aliasOf = (dir: string) => path.join(os.tmpdir(), `ferry-${crypto.createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);

describe('socketDir', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const p of made.splice(0)) fs.rmSync(p, { recursive: true, force: true });
  });

  it('makes a private alias for a deep directory and uses it again', () => {
    const dir = deep('ok');
    const a = socketDir(dir);
    made.push(a);
    expect(a).toBe(aliasOf(dir));
    expect(fs.statSync(a).mode & 0o777).toBe(0o700);
    expect(socketDir(dir)).toBe(a);
    // A short directory is used as it is.
    expect(socketDir('/tmp/x')).toBe('/tmp/x');
  });

  it('refuses an alias that others can open, or that is a link', () => {
    const dir = deep('open');
    const a = aliasOf(dir);
    fs.mkdirSync(a, { mode: 0o777 });
    fs.chmodSync(a, 0o777);
    made.push(a);
    expect(() => socketDir(dir)).toThrow(/is open to other users \(mode 777\)/);
    const dir2 = deep('link');
    const b = aliasOf(dir2);
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-target-'));
    fs.symlinkSync(target, b);
    made.push(b, target);
    expect(() => socketDir(dir2)).toThrow(/is not a directory \(a link or a file is there\)/);
  });

  it("refuses an alias another user made first (needs root to make one as another user)", (ctx) => {
    if (process.getuid?.() !== 0) {
      console.log('skipped: making a directory as another user needs root');
      return ctx.skip();
    }
    const dir = deep('other');
    const a = aliasOf(dir);
    fs.mkdirSync(a, { mode: 0o700 });
    fs.chownSync(a, 65534, 65534);
    made.push(a);
    expect(() => socketDir(dir)).toThrow(/belongs to another user \(uid 65534\)/);
  });
});
