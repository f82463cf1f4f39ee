import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSamples, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

describe('parseSamples (parse-prometheus-text-format)', () => {
  it('reads labels with escapes, timestamps, special values and types', () => {
    const text = [
      '# HELP x_total A counter.',
      '# TYPE x_total counter',
      'x_total{a="q\\"u\\\\o\\nte",b="} y,z=1"} 3 1700000000123',
      '# TYPE g gauge',
      'g 0.5',
      'g{k="v"} +Inf',
      '# TYPE h histogram',
      'h_bucket{le="+Inf"} 1',
      'h_sum 2',
      'h_count 1',
      '',
    ].join('\n');
    const { samples, types } = parseSamples(text);
    assert.deepEqual(samples, [
      { name: 'x_total', labels: { a: 'q"u\\o\nte', b: '} y,z=1' }, value: 3, timestampMs: 1700000000123 },
      { name: 'g', labels: {}, value: 0.5 },
      { name: 'g', labels: { k: 'v' }, value: Infinity },
    ]);
    assert.equal(types.get('x_total'), 'counter');
    assert.equal(types.get('h'), 'histogram');
    assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  });
  it('skips what is not a sample', () => {
    assert.deepEqual(parseSamples('a{b="c"}\n').samples, []);
  });
});
