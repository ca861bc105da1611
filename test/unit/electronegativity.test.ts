// Electronegativity (Doyensec's Electron security lint) over the desktop app's sources: every
// finding must be fixed or carry a `security-reviewed <CHECK_ID>: why` comment in the lines just
// above it, so the justification sits beside the code it excuses. A planted insecure window proves
// the scan runs and finds things here, offline. Its one networked check (Electron releases with
// security fixes) cannot reach GitHub on an offline machine; the test prints that when it happens.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const BIN = path.join(root, 'node_modules', '.bin', 'electronegativity');
/** What the desktop app is made of: the main process, the preload, shared code and the renderer page. */
const SCANNED = ['main', 'preload', 'common', 'renderer/index.html', 'renderer/src', 'package.json'];
const PLANTED = 'planted-insecure/window.js';
/** How far above a finding its justification may sit. */
const REVIEW_WINDOW = 6;

interface Finding {
  ruleId: string;
  file: string;
  line: number;
  message: string;
}

let findings: Finding[] = [];
let log = '';

function scan(dir: string, out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(BIN, ['-i', dir, '-r', '-v', 'false', '-o', out], { cwd: dir, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && !fs.existsSync(out)) reject(new Error(`electronegativity failed: ${err.message}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-eneg-'));
  for (const part of SCANNED) fs.cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  fs.mkdirSync(path.join(dir, path.dirname(PLANTED)), { recursive: true });
  fs.writeFileSync(
    path.join(dir, PLANTED),
    "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
  );
  const out = path.join(dir, 'findings.sarif');
  try {
    log = await scan(dir, out);
    const sarif = JSON.parse(fs.readFileSync(out, 'utf8'));
    findings = sarif.runs[0].results.map((r: any) => {
      const loc = r.locations?.[0]?.physicalLocation;
      return { ruleId: r.ruleId, file: loc?.artifactLocation?.uri ?? 'N/A', line: loc?.region?.startLine ?? 0, message: r.message?.text ?? '' };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (/No connectivity/.test(log)) {
    console.log('electronegativity: the check for Electron releases with security fixes needs the internet and was not run (offline)');
  }
}, 200_000);

describe('Electronegativity', () => {
  it('runs offline and finds what is planted (so a clean result means something)', () => {
    const planted = new Set(findings.filter((f) => f.file === PLANTED).map((f) => f.ruleId));
    expect([...planted]).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'AUXCLICK_JS_CHECK']));
    // It read the real app too: the console window's preload is always reported for review.
    expect(findings.some((f) => f.file === 'main/electron-main.ts')).toBe(true);
  });

  it('reports nothing in the app that is not fixed or justified beside the code', () => {
    const unjustified = findings
      .filter((f) => f.file !== PLANTED)
      .filter((f) => {
        const file = path.join(root, f.file);
        if (f.file === 'N/A' || !fs.existsSync(file)) return true;
        const lines = fs.readFileSync(file, 'utf8').split('\n');
        const above = lines.slice(Math.max(0, f.line - 1 - REVIEW_WINDOW), f.line).join('\n');
        return !above.includes(`security-reviewed ${f.ruleId}:`);
      })
      .map((f) => `${f.ruleId} at ${f.file}:${f.line}: ${f.message}`);
    expect(unjustified, `fix these or justify them with a "security-reviewed <CHECK_ID>: why" comment above the line:\n${unjustified.join('\n')}`).toEqual([]);
  });
});
