/**
 * The reference docs served at /docs/: every page renders, and every link
 * between pages (and every #anchor) in docs/ and the README points at a page
 * and heading that exist, so the UI's help links and the README never dangle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const root = new URL('../../', import.meta.url);
const topics = readdirSync(new URL('docs/', root)).filter((n) => n.endsWith('.md'));

/** Markdown links `[text](target)` outside code fences. */
function links(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) out.push(m[1]!);
  }
  return out;
}

describe('documentation pages', () => {
  let server: TestServer;
  const pages = new Map<string, string>();
  before(async () => {
    server = await startTestServer();
    for (const topic of topics) {
      const response = await fetch(`${server.url}/docs/${topic}`);
      assert.equal(response.status, 200, topic);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      pages.set(topic, await response.text());
    }
  });
  after(() => server.close());

  it('serves every topic as HTML with its title, and an index that lists them all', async () => {
    assert.ok(topics.includes('architecture.md') && topics.includes('query-language.md'), topics.join());
    assert.match(pages.get('query-language.md')!, /<h1 id="query-language">Query language<\/h1>/);
    const index = await (await fetch(`${server.url}/docs/`)).text();
    for (const topic of topics) assert.ok(index.includes(`href="${topic}"`), `index lists ${topic}`);
  });

  it('links between pages point at pages and headings that exist', () => {
    const broken: string[] = [];
    const sources = [...topics.map((t) => [`docs/${t}`, t] as const), ['README.md', undefined] as const];
    for (const [file, self] of sources) {
      for (const target of links(readFileSync(new URL(file, root), 'utf8'))) {
        if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const topic = path === '' ? self : file === 'README.md' ? path.replace(/^docs\//, '') : path;
        if (topic === undefined || !topic.endsWith('.md')) continue; // a file in the repository, not a page
        const html = pages.get(topic);
        if (html === undefined) broken.push(`${file}: ${target} (no page)`);
        else if (anchor !== undefined && !html.includes(`id="${anchor}"`))
          broken.push(`${file}: ${target} (no heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('answers 404 for a topic that does not exist, including path tricks', async () => {
    for (const path of ['/docs/nope.md', '/docs/..%2Fpackage.json', '/docs/%2e%2e%2fREADME.md']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /"name": "shoplens"|# Shoplens/);
    }
  });
});
