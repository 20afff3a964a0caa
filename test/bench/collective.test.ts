import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectiveSuite, type CollectiveRow, type StepRow } from '../../src/bench/collective.js';
import { stepGraph } from '../../src/compiler/compile.js';
import { optimizerFor } from '../../src/ir/optimizer.js';
import { loadSpecFile } from '../../src/spec/index.js';
import { requireMpi } from '../dist/mpi-run.js';

test('bench collective --quick: launches itself on 2 processes; an all-reduce and an all-gather row per size, a step and its sizes', async () => {
  requireMpi();
  const all: (CollectiveRow | StepRow)[] = [];
  await collectiveSuite.run({ repeats: 1, quick: true }, (row) => all.push(row as CollectiveRow | StepRow));
  const step = all.find((r): r is StepRow => r.op === 'step')!;
  const rows = all.filter((r): r is CollectiveRow => r.op !== 'step');
  // The step's sizes, from its own graph: every trained parameter's gradient, the loss and the stop flag, and the
  // gathered embeddings of the global batch (32 images in --quick, two views, 64-wide z).
  const spec = loadSpecFile('examples/mnist.simclr', { set: ['train.batch_size=32'] }).spec!;
  const graph = stepGraph({ ...spec, optimizer: optimizerFor(spec.optimizer, 32) }, 16);
  const gradientBytes = 4 * (graph.named('param').reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0) + 2);
  assert.equal(rows.map((r) => [r.op, r.bytes, r.tensor]), [
    ['all_reduce', 65536, undefined],
    ['all_gather', 65536, undefined],
    ['all_reduce', 1048576, undefined],
    ['all_gather', 1048576, undefined],
    ['all_reduce', gradientBytes, 'step gradients'],
    ['all_gather', 2 * 32 * 64 * 4, 'step embeddings'],
  ]);
  assert.is(step.gradient_bytes, gradientBytes);
  assert.is(step.embedding_bytes, 2 * 32 * 64 * 4);
  assert.is(step.batch, 32);
  const communication = step.all_gather_ms + step.reduce_scatter_ms + step.all_reduce_ms;
  assert.ok(step.step_ms > communication && communication > 0, JSON.stringify(step));
  assert.ok(Math.abs(step.communication_share - communication / step.step_ms) <= 1e-4, JSON.stringify(step));
  for (const r of rows) {
    assert.is(r.bench, 'collective');
    assert.is(r.processes, 2);
    assert.ok(r.median_ms > 0 && r.min_ms <= r.median_ms && r.median_ms <= r.max_ms, JSON.stringify(r));
    // Bandwidths are the bytes over the median time; the bus figure is the link's share of it.
    const algbw = r.bytes / (r.median_ms * 1e6);
    assert.ok(Math.abs(r.algbw_gb_s - algbw) <= 1e-3 + 1e-2 * algbw, `algbw ${r.algbw_gb_s} vs ${algbw}`);
    const share = r.op === 'all_reduce' ? 1 : 0.5;
    assert.ok(Math.abs(r.busbw_gb_s - r.algbw_gb_s * share) <= 2e-3, `busbw ${r.busbw_gb_s}`);
  }
});

test.run();
