import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { capYoungGeneration, AGENT_NEW_SPACE_MB } from './heap.js';

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

describe('capYoungGeneration', () => {
  it('keeps the new space at or under the cap through allocation pressure', async () => {
    capYoungGeneration();
    // Short-lived garbage with some survivors, yielding as a busy agent does (the cap is applied after GCs).
    let keep: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20_000; i++) {
        keep.push({ i, s: `x${i}`, a: [i] });
        if (keep.length > 5000) keep = [];
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(newSpace() <= AGENT_NEW_SPACE_MB * 1048576, `new space ${newSpace()} bytes`);
  });
});
