import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console's code (boot.tsx, loaded by main.tsx with import()) is preloaded from the
 * page's head: fetched and compiled while the entry asks for the first screen's hosts, not
 * after, when the server is busy answering.
 */
function preloadBoot(): Plugin {
  return {
    name: 'ferry-preload-boot',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle ?? {};
        const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
        const boot = chunks.find((c) => c.facadeModuleId?.endsWith('/src/boot.tsx'));
        if (!boot) return [];
        const entry = chunks.find((c) => c.isEntry);
        const have = new Set([entry?.fileName, ...(entry?.imports ?? [])]);
        const files: string[] = [];
        const add = (file: string) => {
          if (have.has(file)) return;
          have.add(file);
          files.push(file);
          const c = bundle[file];
          if (c?.type === 'chunk') c.imports.forEach(add);
        };
        add(boot.fileName);
        return files.map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const }));
      },
    },
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), preloadBoot()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
});
