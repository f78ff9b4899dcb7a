/**
 * The README promises Node.js ≥ 20.19 (package.json `engines.node`). Every
 * package npm installs from the lock file must accept that version, or
 * `npm ci` warns (EBADENGINE) and the package may use APIs Node 20 lacks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<
    string,
    { engines?: { node?: string } | string[]; optional?: boolean; os?: string[]; cpu?: string[] }
  >;
};

test('the stated Node requirement is the one the README gives and the one running the tests meets', () => {
  assert.equal(pkg.engines.node, '>=20.19');
  assert.ok(semver.satisfies(process.version, pkg.engines.node), `running ${process.version}`);
});

test('every locked package accepts the oldest supported Node (20.19.0)', () => {
  const minimum = semver.minVersion(pkg.engines.node)!.version;
  const refusing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.engines === undefined || Array.isArray(entry.engines)) continue;
    const range = entry.engines.node;
    if (range === undefined) continue;
    // Platform-specific optional binaries for other systems are never installed here.
    if (entry.optional && (entry.os !== undefined || entry.cpu !== undefined)) continue;
    if (!semver.satisfies(minimum, range)) refusing.push(`${path.replace(/^node_modules\//, '')} (node ${range})`);
  }
  assert.deepEqual(refusing, [], `packages that refuse Node ${minimum}: ${refusing.join(', ')}`);
});
