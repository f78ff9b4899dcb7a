/**
 * Chart options and query-text helpers of the web UI, without a browser: SLO line labels
 * stay inside the plot and apart, donut labels get room, map labels sit apart, and the
 * suggestion of an unknown-field warning replaces only that field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartOption } from '../../web/src/components/chart-options.ts';
import { regionsGeoJson } from '../../web/src/components/regions-geo.ts';
import { panelQuery, replaceField, viewProblem } from '../../web/src/pages/explore-query.ts';
import type { Panel, QueryAnswer } from '../../web/src/types.ts';

const HOUR = 3_600_000;
const timeAnswer: QueryAnswer = {
  columns: [
    { name: '@timestamp', type: 'timestamp' },
    { name: 'p95', type: 'double' },
  ],
  rows: [
    ['2026-12-01T10:00:00Z', 120],
    ['2026-12-01T10:05:00Z', 30_000],
  ],
  stats: { elapsedMs: 1, rowsScanned: 2 },
  range: { from: 'now-1h', to: 'now' },
};
const byName: QueryAnswer = {
  columns: [
    { name: 'device', type: 'string' },
    { name: 'orders', type: 'integer' },
  ],
  rows: [
    ['mobile', 60],
    ['desktop', 30],
    ['tablet', 10],
  ],
  stats: { elapsedMs: 1, rowsScanned: 3 },
  range: { from: 'now-1h', to: 'now' },
};
const panel = (p: Partial<Panel>): Panel => ({ id: 'p', title: 't', type: 'line', w: 6, h: 3, ...p });
const opt = (p: Partial<Panel>, a: QueryAnswer, narrow = false): any => chartOption(panel(p), a, HOUR, narrow);

describe('chart options', () => {
  it('puts SLO line labels inside the plot, alternating ends so close lines do not collide', () => {
    const o = opt({ markLines: [500, 200] }, timeAnswer);
    const mark = o.series[0].markLine;
    assert.equal(mark.label.position, 'insideEndTop');
    assert.deepEqual(
      mark.data.map((d: { yAxis: number; label: { position: string } }) => [d.yAxis, d.label.position]),
      [
        [200, 'insideEndTop'],
        [500, 'insideStartTop'],
      ],
    );
  });

  it('names a real font for canvas text (not "inherit", which canvas ignores and then mis-measures labels)', () => {
    for (const type of ['line', 'hbar', 'pie', 'heatmap'] as const) {
      const family: string = opt({ type }, type === 'line' ? timeAnswer : byName).textStyle.fontFamily;
      assert.match(family, /sans-serif$/, type);
    }
  });

  it('leaves room above a horizontal bar chart for its vertical SLO labels and the legend', () => {
    const two: QueryAnswer = {
      ...byName,
      columns: [...byName.columns, { name: 'p99', type: 'double' }],
      rows: byName.rows.map((r) => [...r, 1]),
    };
    assert.equal(opt({ type: 'hbar' }, two).grid.top, 28);
    assert.equal(opt({ type: 'hbar', markLines: [200, 500] }, two).grid.top, 46);
  });

  it('draws a donut small enough for its labels, hiding slivers and overlaps', () => {
    const series = opt({ type: 'pie' }, byName).series[0];
    assert.deepEqual(series.radius, ['34%', '58%']);
    assert.equal(series.label.formatter, '{b}\n{d}%');
    assert.equal(series.minShowLabelAngle, 6);
    assert.deepEqual(series.labelLayout, { hideOverlap: true });
  });

  it('labels map regions at points apart from their neighbours', () => {
    const at = Object.fromEntries(
      (regionsGeoJson() as { features: { properties: { name: string; cp?: [number, number] } }[] }).features.map(
        (f) => [f.properties.name, f.properties.cp],
      ),
    );
    for (const [a, b] of [
      ['EU-WEST', 'EU-CENTRAL'],
      ['US-WEST', 'US-EAST'],
    ] as const) {
      const [pa, pb] = [at[a], at[b]];
      assert.ok(pa && pb, `${a} and ${b} have label points`);
      assert.ok(Math.abs(pa[1] - pb[1]) >= 10, `${a} and ${b} labels are ${Math.abs(pa[1] - pb[1])}° apart`);
    }
  });
});

describe('Explore helpers', () => {
  it('replaces a misspelt field everywhere it is a field, not inside quotes or longer names', () => {
    assert.equal(
      replaceField(
        'statsu:200 AND NOT statsu_code:1 AND message:"statsu" | stats count() by statsu',
        'statsu',
        'status',
      ),
      'status:200 AND NOT statsu_code:1 AND message:"statsu" | stats count() by status',
    );
    assert.equal(replaceField('a.statsu:1 OR -statsu:2', 'statsu', 'status'), 'a.statsu:1 OR -status:2');
  });

  it('says which views can draw a result, and stores fixed time buckets as $interval', () => {
    assert.equal(viewProblem('bar', byName), '');
    assert.match(viewProblem('line', byName), /time column/);
    assert.equal(viewProblem('line', timeAnswer), '');
    assert.match(viewProblem('pie', timeAnswer), /no time column/);
    assert.equal(
      panelQuery('* | stats count() by bin(@timestamp, 5m), service.name'),
      '* | stats count() by bin(@timestamp, $interval), service.name',
    );
  });
});
