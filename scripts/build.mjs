// Builds everything into dist/: main, CLI and preload with esbuild (fast, one file each;
// the sandboxed preload must be a single bundle), the renderer with Vite.
// Why two tools: Vite is the natural home of the React renderer (dev server, CSS,
// code splitting); esbuild, which Vite itself is built around, bundles the Node side in
// milliseconds without a second config language. tsc only type-checks (npm run typecheck).
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2]; // optional: main | renderer

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

if (!only || only === 'main') {
  await Promise.all([
    // Node-side bundles keep node_modules as runtime requires (native better-sqlite3 above all).
    build({ ...node, entryPoints: ['main/electron-main.ts'], outfile: 'dist/main/electron-main.js', packages: 'external' }),
    build({ ...node, entryPoints: ['main/cli/ferry.ts'], outfile: 'dist/cli/ferry.js', packages: 'external' }),
    // The sandboxed preload may only require 'electron': everything else is bundled in.
    build({ ...node, entryPoints: ['preload/preload.ts'], outfile: 'dist/preload/preload.js', external: ['electron'] }),
  ]);
}
if (!only || only === 'renderer') {
  await viteBuild({ configFile: path.join(root, 'vite.config.mts'), logLevel: 'warn' });
}
