// Builds the web UI (web/) into dist/web, which `shoplens serve` serves at `/`.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npx vite` for UI development against a running `npm start`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
