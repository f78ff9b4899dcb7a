/**
 * The web UI (web/, built by Vite into dist/web): `index.html` for browsers
 * at `/` and at the client-side routes, hashed assets under `/assets/`.
 * The shell needs no API key (a browser cannot send one when it navigates);
 * every API call the UI makes carries the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import type { AppContext } from '../server.ts';

/** Where `npm run build:web` writes the UI. */
export const UI_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** Client-side routes of the UI (web/src/App.tsx); each serves index.html to browsers. */
const CLIENT_ROUTES = [
  '/dashboards',
  '/dashboards/*',
  '/explore',
  '/errors',
  '/errors/*',
  '/traces',
  '/traces/*',
  '/alerts',
  '/admin',
];

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>Shoplens</title></head>
<body style="font-family:sans-serif;margin:3rem"><h1>Shoplens</h1><p>The web UI is not built yet: run
<code>npm run build:web</code> (or <code>npm start</code>, which builds it) and reload.</p>
<p>API: POST /api/v1/events, POST /api/v1/query, POST /_bulk; operations: /health, /ready, /metrics.</p></body></html>`;

/** True when the client is a browser asking for a page (Accept lists text/html), not an API or Elasticsearch client. */
export function prefersHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

/** Sends the UI's index.html (or a page that says how to build it). */
export function sendIndexHtml(reply: FastifyReply): FastifyReply {
  const file = join(UI_DIR, 'index.html');
  const html = existsSync(file) ? readFileSync(file, 'utf8') : NOT_BUILT;
  // The shell must never be cached: it names the current hashed assets.
  return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(html);
}

export function uiRoutes(_ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    for (const url of CLIENT_ROUTES) {
      app.get(url, { config: { role: 'public' } }, async (request, reply) => {
        if (!prefersHtml(request)) {
          throw new AppError(404, 'not_found', `No route for GET ${request.url.split('?')[0]}`);
        }
        return sendIndexHtml(reply);
      });
    }

    app.get<{ Params: { '*': string } }>('/assets/*', { config: { role: 'public' } }, async (request, reply) => {
      const name = normalize(request.params['*']);
      if (name.startsWith('..') || name.includes('\0')) throw new AppError(404, 'not_found', 'No such asset');
      const type = CONTENT_TYPES[extname(name)];
      let body: Buffer;
      try {
        body = await readFile(join(UI_DIR, 'assets', name));
      } catch {
        throw new AppError(404, 'not_found', `No asset ${name}; run npm run build:web`);
      }
      // Asset names carry a content hash, so they never change.
      return reply
        .type(type ?? 'application/octet-stream')
        .header('Cache-Control', 'public, max-age=31536000, immutable')
        .send(body);
    });

    app.get('/favicon.svg', { config: { role: 'public' } }, async (_request, reply) => {
      const file = join(UI_DIR, 'favicon.svg');
      if (!existsSync(file)) throw new AppError(404, 'not_found', 'No favicon');
      return reply.type('image/svg+xml').header('Cache-Control', 'public, max-age=86400').send(readFileSync(file));
    });
  };
}
