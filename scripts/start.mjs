// `npm start`: installs what is missing, builds, then opens the Electron window, or,
// where the Electron binary is not installed (offline installs), serves the console to
// a browser on 127.0.0.1 and says so in one line. Uses only Node built-ins so that it
// runs on a fresh clone before `npm install`.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args, env = {}, cwd = root) =>
  spawnSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } }).status === 0;

if (!fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
  // The packages first, without Electron's runtime download: if that download failed inside
  // `npm ci`, the whole install (native modules compiled included) would have to run again.
  console.log('ferry: installing dependencies (first start, a few minutes)...');
  // Errors only: npm's warnings here are about the packaging tools' Node engine and packages
  // whose install scripts are not needed, nothing a user starting the console acts on.
  if (!run(npm, ['ci', '--loglevel=error', '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })) {
    console.error('ferry: `npm ci` failed; see the messages above');
    process.exit(1);
  }
}
fetchElectronRuntime();
// Always build: it takes about 2 s, and a pulled change must never run an old bundle.
if (!run(process.execPath, ['scripts/build.mjs'])) process.exit(1);

/**
 * Electron's runtime is a separate download (its package's install script). Tried once a
 * day while it is missing, quietly, and said in one line when it cannot be had.
 */
function fetchElectronRuntime() {
  if (electronBinary() || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return;
  const marker = path.join(root, '.cache', 'electron-download-failed');
  const last = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
  if (Date.now() - last < 24 * 3600_000) return;
  const install = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!fs.existsSync(install)) return;
  console.log('ferry: downloading the Electron runtime...');
  const r = spawnSync(process.execPath, [install], { cwd: path.dirname(install), stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (r.status === 0 && electronBinary()) return;
  const why = `${r.stderr ?? ''}`.split('\n').find((l) => /error|ENOTFOUND|EAI_AGAIN|ECONN|timed out/i.test(l))?.trim() ?? (r.error ? r.error.message : `exit ${r.status}`);
  console.log(`ferry: the Electron runtime could not be downloaded (${why.slice(0, 160)}); trying again tomorrow`);
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  fs.writeFileSync(marker, new Date().toISOString() + '\n');
}

function electronBinary() {
  try {
    const bin = require('electron'); // the path of the binary, or throws if it was never downloaded
    return typeof bin === 'string' && fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

/**
 * better-sqlite3 is compiled for Node (for the CLI and tests); Electron needs a build for
 * its own ABI. Build a second copy once, under .cache/, and point the store at it with
 * FERRY_SQLITE_BINDING, so the CLI keeps working beside the desktop app.
 */
function electronSqliteBinding() {
  const version = require('electron/package.json').version;
  const dir = path.join(root, '.cache', `better-sqlite3-electron-${version}`);
  const binding = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(binding)) return binding;
  console.log(`ferry: building better-sqlite3 for Electron ${version} (once)...`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
  const ok = run(npm, ['run', 'build-release'], {
    npm_config_runtime: 'electron',
    npm_config_target: version,
    npm_config_disturl: 'https://electronjs.org/headers',
  }, dir) && fs.existsSync(binding);
  return ok ? binding : null;
}

function serveInBrowser(why) {
  console.log(`ferry: ${why}; starting the console in your browser instead (ferry serve).`);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ferry.js'), 'serve', '--open', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

const electron = electronBinary();
if (!electron) {
  serveInBrowser('the Electron binary is not installed (offline install)');
} else {
  const binding = electronSqliteBinding();
  if (!binding) serveInBrowser('better-sqlite3 could not be built for Electron (no network for its headers?)');
  else {
    const child = spawn(electron, [root], { stdio: 'inherit', env: { ...process.env, FERRY_SQLITE_BINDING: binding } });
    child.on('exit', (code) => process.exit(code ?? 0));
  }
}
