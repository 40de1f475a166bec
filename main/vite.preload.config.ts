import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The sandboxed preload cannot load modules itself: bundle it (with the contract's method names) into one CommonJS file.
export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('../build/preload', import.meta.url)),
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    lib: {
      // The UI window's preload, and the compute window's (which only hands over a MessagePort).
      entry: {
        preload: fileURLToPath(new URL('./preload.ts', import.meta.url)),
        'compute-preload': fileURLToPath(new URL('./compute-preload.ts', import.meta.url)),
      },
      formats: ['cjs'],
      fileName: (_format, name) => `${name}.cjs`,
    },
    rollupOptions: { external: ['electron'] },
  },
});
