import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The UI: one static bundle, loaded from studio://app in Electron and from the loopback server in browser mode.
// A second page, compute/compute.html, is the hidden compute window's trainer (webgpu/webgl).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('../build/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Inline nothing: the CSP allows only files from the app's own origin.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        compute: fileURLToPath(new URL('./compute/compute.html', import.meta.url)),
      },
    },
  },
});
