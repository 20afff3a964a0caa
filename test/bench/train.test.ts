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
  const all: TrainRow[] = [];
  await runTrainBench({ batch: 8, repeats: 1 }, (row) => all.push(row));
  assert.equal(
    all.map((r) => r.impl),
    ['simclr-compile', 'tfjs-webgpu', 'pytorch'],
  );
  // The PyTorch row needs python3 with torch; without it the row says so and has no numbers.
  const torch = all[2];
  if (torch.images_per_s === null) assert.match(torch.note ?? '', /torch not found/);
  const rows = torch.images_per_s === null ? all.slice(0, 2) : all;
  for (const row of rows) {
    assert.is(row.bench, 'train');
    assert.is(row.batch, 8);
    const [images, median, loss] = [row.images_per_s ?? NaN, row.median_ms ?? NaN, row.first_loss ?? NaN];
    for (const [key, value] of [['images_per_s', images], ['median_ms', median], ['first_loss', loss]] as const) {
      assert.ok(Number.isFinite(value) && value > 0, `${row.impl} ${key} ${value}`);
    }
    // images_per_s is the batch over the median step, to the row's rounding.
    assert.ok(Math.abs(images - row.batch / (median / 1000)) < 0.1, `${row.impl} images_per_s ${images}`);
  }
  // The compiled row's memory: measured holds every planned buffer at least at its planned size,
  // plus uniforms and read-back buffers.
  const own = all[0];
  assert.ok(own.planned_mib! > 0 && own.measured_peak_mib! >= own.planned_mib! && own.measured_peak_mib! <= 1.25 * own.planned_mib! + 2, `planned ${own.planned_mib} MiB, measured ${own.measured_peak_mib} MiB`);
  // Same weights, same views: the steps compute the same function, or the comparison means nothing.
  const [ours, ...theirs] = rows.map((r) => r.first_loss ?? NaN);
  for (const [k, other] of theirs.entries()) {
    assert.ok(Math.abs(ours - other) <= 1e-3 * Math.abs(other), `first loss ${ours} vs ${rows[k + 1].impl} ${other}`);
  }
});

test('bench train --chunk: the compiled step alone, in chunks, planning less memory than one pass', async () => {
  const rows: TrainRow[] = [];
  for (const chunk of [undefined, 3]) await runTrainBench({ batch: 8, repeats: 1, chunk, impls: ['simclr-compile'] }, (row) => rows.push(row));
  assert.equal(rows.map((r) => r.impl), ['simclr-compile', 'simclr-compile']);
  const [whole, chunked] = rows;
  assert.is(whole.chunks, undefined);
  assert.is(chunked.chunk, 3);
  assert.is(chunked.chunks, 3);
  assert.ok(Number.isFinite(chunked.first_loss ?? NaN) && (chunked.images_per_s ?? 0) > 0);
  assert.ok(chunked.planned_mib! < whole.planned_mib!, `chunked ${chunked.planned_mib} MiB < ${whole.planned_mib} MiB`);
});

test.run();
