import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Keep every asset a file of its own: the app's CSP allows no data: scripts or styles.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        main: page('index.html'),
        popup: page('popup.html'),
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    // A zone away from UTC with daylight saving, so that local-time code is really tested.
    env: { TZ: 'Europe/Berlin' },
  },
});
