// A process killed in the middle of a write must leave a consistent database:
// committed migrations intact, the interrupted transaction gone, integrity_check ok.
import { describe, it, expect } from 'vitest';
import { buildSync } from 'esbuild';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';

const CHILD = `
import fs from 'node:fs';
import { Store } from '../../main/store/store';
import { record } from './store.test-record';
const store = Store.open(process.argv[2]);
for (let i = 0; i < 50; i++) store.insertMigration(record('committed-' + i));
fs.writeSync(1, 'committed\\n');
store.db.transaction(() => {
  for (let i = 0; ; i++) {
    store.insertMigration(record('doomed-' + i));
    store.addRound('doomed-' + i, { round: 0, t: 1, phase: 'precopy', remainingBytes: 1, transferredBytes: 1, dirtyMiBps: 1, bandwidthMiBps: 1, expectedDowntimeMs: 1, throttlePct: 0 });
    if (i === 2000) fs.writeSync(1, 'writing\\n');
  }
})();
`;

describe('store crash safety', () => {
  it('survives SIGKILL in the middle of a transaction', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-crash-'));
    const entry = path.join(__dirname, '.crash-child.ts');
    fs.writeFileSync(entry, CHILD);
    // Bundled inside the project so the child resolves node_modules (better-sqlite3).
    const out = path.resolve(__dirname, '..', '..', 'dist', 'test', 'crash-child.js');
    try {
      buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'error' });
      const child = spawn(process.execPath, [out, dir], { cwd: path.resolve(__dirname, '..', '..') });
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stdout.on('data', (d) => {
          seen += d;
          if (seen.includes('writing')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => reject(new Error(`child exited by itself (${code}) before the kill: ${err}`)));
      });
      await new Promise((r) => child.once('exit', r));

      const store = Store.open(dir);
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(store.listMigrations({ limit: 10_000 }).total).toBe(50);
      expect(store.listMigrations({ text: 'doomed' }).total).toBe(0);
      expect((store.db.prepare('SELECT count(*) n FROM migration_rounds').get() as { n: number }).n).toBe(0);
      store.close();
    } finally {
      fs.rmSync(entry, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
