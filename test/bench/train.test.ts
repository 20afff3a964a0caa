import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { suites } from '../../src/bench/index.js';
import { runTrainBench, trainSpec, type TrainRow } from '../../src/bench/train.js';

test('bench train resolves to the stdlib small convnet with a 2-layer projector, NT-Xent at τ 0.1 and AdamW', () => {
  const spec = trainSpec(256);
  assert.is(spec.train.batch_size, 256);
  assert.equal(
    spec.encoder.layers.flatMap((l) => (l.type === 'conv' ? [l.out] : [])),
    [32, 64, 128],
  );
  assert.is(spec.encoder.pool, 'cat_avg_max');
  assert.is(spec.projector.layers, 2);
  assert.is(spec.loss.temperature, 0.1);
  assert.is(spec.optimizer.type, 'adamw');
  assert.ok(suites.some((s) => s.name === 'train'), 'registered as `bench train`');
});

test('bench train at a small batch: one finite, positive row per implementation and the same first loss', async () => {
  const rows: TrainRow[] = [];
  await runTrainBench({ batch: 8, repeats: 1 }, (row) => rows.push(row));
  assert.equal(
    rows.map((r) => r.impl),
    ['simclr-compile', 'tfjs-webgpu'],
  );
  for (const row of rows) {
    assert.is(row.bench, 'train');
    assert.is(row.batch, 8);
    for (const key of ['images_per_s', 'median_ms', 'first_loss'] as const) {
      assert.ok(Number.isFinite(row[key]) && row[key] > 0, `${row.impl} ${key} ${row[key]}`);
    }
    // images_per_s is the batch over the median step, to the row's rounding.
    assert.ok(Math.abs(row.images_per_s - row.batch / (row.median_ms / 1000)) < 0.1, `${row.impl} images_per_s ${row.images_per_s}`);
  }
  // Same weights, same views: the two steps compute the same function, or the comparison means nothing.
  const [ours, theirs] = rows.map((r) => r.first_loss);
  assert.ok(Math.abs(ours - theirs) <= 1e-3 * Math.abs(theirs), `first loss ${ours} vs TF.js ${theirs}`);
});

test.run();
