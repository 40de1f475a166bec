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
      entry: fileURLToPath(new URL('./preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
