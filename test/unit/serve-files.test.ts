// `ferry serve` keeps the console's built files in memory once read; a file rebuilt while it
// serves (another mtime or size) is read again, never served stale.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtFile } from '../../main/server/serve';

describe('serve: built files', () => {
  it('serves a file from memory until it changes on disk, then the new content', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-built-'));
    try {
      const file = path.join(dir, 'app.js');
      fs.writeFileSync(file, 'console.log(1);');
      const first = builtFile(file, fs.statSync(file));
      expect(first.toString()).toBe('console.log(1);');
      // The same file, unchanged: the same buffer, not read again.
      expect(builtFile(file, fs.statSync(file))).toBe(first);
      // Rebuilt with the same size but a later mtime, then with another size.
      fs.writeFileSync(file, 'console.log(2);');
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      expect(builtFile(file, fs.statSync(file)).toString()).toBe('console.log(2);');
      fs.writeFileSync(file, 'console.log("rebuilt");');
      expect(builtFile(file, fs.statSync(file)).toString()).toBe('console.log("rebuilt");');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
