// Builds the web UI (web/) into dist/web, which `shoplens serve` serves at `/`.
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Lets the browser fetch and compile the chart chunk (ECharts, most of the
 * UI's code) while the app shell starts, without running it yet: the app
 * imports it once the panel queries are on their way.
 */
function preloadChartChunk(): Plugin {
  return {
    name: 'shoplens-preload-chart',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find((c) => c.type === 'chunk' && c.name === 'Chart');
        if (!chunk) return [];
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `/${chunk.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [react(), preloadChartChunk()],
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
