import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console's code (boot.tsx, loaded by main.tsx with import()) is fetched from the page's
 * head, while the entry asks for the first screen's hosts, not after, when the server is busy
 * answering. As rel=preload, not modulepreload: a modulepreloaded chunk is compiled as soon as
 * it arrives, on the main thread, which held the WebSocket's open event, and with it the
 * request, 40-95 ms after DOMContentLoaded; preloaded, the chunk is compiled when the entry
 * imports it, after the request is sent (8-29 ms after DOMContentLoaded).
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
        return files.map((f) => ({ tag: 'link', attrs: { rel: 'preload', as: 'script', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const }));
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
