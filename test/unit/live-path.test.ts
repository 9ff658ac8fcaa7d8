// The live output path: the per-batch series is encoded by appending, and
// gives exactly the bytes of encoding the whole series at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchSeriesEncoder, batchSeries, decodeBatchSeries } from '../../src/outputs/training/contract';

test('appending to the per-batch series encodes only the new values, with the same result as a whole encoding', () => {
  const values: number[] = [];
  const enc = new BatchSeriesEncoder();
  for (let i = 0; i < 50; i++) {
    // updates arrive after 0 to 3 new batches each
    for (let k = i % 4; k > 0; k--) values.push(Math.sin(values.length) * 0.5 + 0.5);
    assert.deepEqual(enc.series(values), batchSeries(values), `after ${values.length} values`);
  }
  const { y } = decodeBatchSeries({ batches: enc.series(values), batchesPerEpoch: 10 });
  assert.deepEqual(Array.from(y), Array.from(Float32Array.from(values)));
  // a shorter series (a new run under the same encoder) starts over
  assert.deepEqual(enc.series([1, 2]), batchSeries([1, 2]));
});
