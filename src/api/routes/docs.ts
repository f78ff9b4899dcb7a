/**
 * The reference documentation (docs/*.md in the repository), rendered as
 * HTML at `/docs/<topic>.md` so that the UI can link a page to the text that
 * explains it. The files are read and rendered once, at start; a topic name
 * is looked up in that set, never joined onto a path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { Marked } from 'marked';
import { AppError } from '../../errors.ts';
import type { AppContext } from '../server.ts';

const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url));

/** GitHub's anchor rule, so that links such as `operations.md#rollups` work the same here and there. */
export function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

const STYLE = `body{font:15px/1.55 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1c2430}
pre{background:#f3f5f8;padding:.75rem;overflow-x:auto;border-radius:4px}code{font-size:.92em}
table{border-collapse:collapse;display:block;overflow-x:auto}td,th{border:1px solid #d5dbe3;padding:.3rem .5rem;text-align:left}
a{color:#1f5fbf}nav{margin-bottom:1.5rem;font-size:.9em}
p,li,td,th{overflow-wrap:anywhere}table{max-width:100%}`;

function renderPage(MarkedClass: typeof Marked, markdown: string): { title: string; html: string } {
  const marked = new MarkedClass({
    renderer: {
      heading({ tokens, depth }) {
        const inner = this.parser.parseInline(tokens);
        return `<h${depth} id="${headingSlug(inner)}">${inner}</h${depth}>\n`;
      },
    },
  });
  const title = /^#\s+(.+)$/m.exec(markdown)?.[1] ?? 'Shoplens';
  const body = marked.parse(markdown, { async: false });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${title} · Shoplens</title>
<style>${STYLE}</style></head><body><nav><a href="/">Shoplens</a> · <a href="/docs/">Documentation</a></nav>${body}</body></html>`;
  return { title, html };
}

/** Every topic under docs/, rendered: `name.md` → page. */
function loadDocs(MarkedClass: typeof Marked): Map<string, { title: string; html: string }> {
  const pages = new Map<string, { title: string; html: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(DOCS_DIR).filter((n) => n.endsWith('.md'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const name of names) pages.set(name, renderPage(MarkedClass, readFileSync(DOCS_DIR + name, 'utf8')));
  return pages;
}

/** The rendered pages and their index, made on the first request (not at start: an idle server keeps its memory). */
let rendered:
  { pages: Map<string, { title: string; html: string }>; index: { title: string; html: string } } | undefined;

async function docs(): Promise<NonNullable<typeof rendered>> {
  if (rendered) return rendered;
  const { Marked: MarkedClass } = await import('marked');
  if (rendered) return rendered;
  const pages = loadDocs(MarkedClass);
  const index = renderPage(
    MarkedClass,
    `# Documentation\n\n${[...pages]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, page]) => `- [${page.title}](${name})`)
      .join('\n')}\n`,
  );
  rendered = { pages, index };
  return rendered;
}

export function docsRoutes(_ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/docs/', { config: { role: 'public' } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send((await docs()).index.html),
    );
    app.get<{ Params: { topic: string } }>('/docs/:topic', { config: { role: 'public' } }, async (request, reply) => {
      const page = (await docs()).pages.get(request.params.topic);
      if (page === undefined) throw new AppError(404, 'not_found', 'No such documentation page; see /docs/');
      return reply.type('text/html; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(page.html);
    });
  };
}
