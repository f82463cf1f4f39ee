import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, TextWriter, labelString, parseText } from './prom.js';

describe('Prometheus text format', () => {
  it('writes families, escaped labels and timestamps, and parses them back', () => {
    const w = new TextWriter();
    w.family('x_total', 'counter', 'A counter.').sample('x_total', { a: 'q"u\\o\nte', b: '' }, 3, 1700000000123);
    w.family('g', 'gauge', 'A gauge.').sample('g', undefined, 0.5).sample('g', '{k="v"}', Infinity);
    const text = w.text();
    assert.match(text, /^# HELP x_total A counter\.\n# TYPE x_total counter\nx_total\{a="q\\"u\\\\o\\nte",b=""\} 3 1700000000123\n/);
    assert.match(text, /g\{k="v"\} \+Inf\n$/);
    const { samples, types } = parseText(text);
    assert.equal(types.get('x_total'), 'counter');
    assert.deepEqual(samples[0], { name: 'x_total', labels: { a: 'q"u\\o\nte', b: '' }, value: 3, timestampMs: 1700000000123 });
    assert.equal(samples[2].value, Infinity);
  });
  it('histograms are cumulative with +Inf, _sum and _count', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 7]) h.observe(v);
    assert.equal(h.count, 4);
    const w = new TextWriter().histogram('d', 'x="1"', h.bounds, h.counts, h.sum);
    const s = parseText(w.text()).samples;
    assert.deepEqual(s.map((x) => [x.name, x.labels.le, x.value]), [
      ['d_bucket', '0.1', 2],
      ['d_bucket', '1', 3],
      ['d_bucket', '+Inf', 4],
      ['d_sum', undefined, 7.65],
      ['d_count', undefined, 4],
    ]);
  });
  it('rejects lines that are not samples', () => {
    assert.throws(() => parseText('not a sample line at all !'), /not a Prometheus sample/);
    assert.equal(labelString({}), '');
  });
});
