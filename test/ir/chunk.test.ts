// Chunked contrastive steps in float64: without BatchNorm the chunked step's loss, gradients and
// updated weights are the unchunked step's; with BatchNorm they are those of a reference built here
// by hand, which runs the network on each chunk's images separately and sums their gradients.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../src/kernels/index.js';
import { defineOp } from '../../src/kernels/op.js';
import { appendBackward } from '../../src/ir/autodiff.js';
import { chunkRows } from '../../src/ir/chunk.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { Graph } from '../../src/ir/graph.js';
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { SIZE, chunkSpec, optimizer } from '../helpers/chunk-spec.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { buildForward, buildPhase } from '../../src/ir/phase.js';
import { pretrainPhase } from '../../src/ir/phases.js';
import { assertClose, randoms } from '../helpers/numeric.js';

const N = 7;
const TOL = 1e-9;
/** Random views and parameters for every named param of the step. */
function feedsFor(spec: ModelSpec): Record<string, Float64Array> {
  const { graph } = buildPhase(pretrainPhase(spec, N));
  const feeds: Record<string, Float64Array> = { views: randoms(2 * N * SIZE * SIZE, 1) };
  graph.named('param').forEach((t, k) => (feeds[t.name!] = randoms(t.shape.reduce((a, b) => a * b, 1), 10 + k, -0.5, 0.5)));
  return feeds;
}

const step = stepScalars(optimizer, 1, 0.1);
const run = (spec: ModelSpec, chunk?: number, feeds = feedsFor(spec)) => {
  const { graph } = buildPhase(pretrainPhase(spec, N, true, chunk));
  return { graph, out: namedOutputs(graph, evaluate(graph, feeds, step)) };
};

for (const chunk of [1, 2, 3, 4, 6]) {
  test(`without BatchNorm, chunks of ${chunk} of ${N} images: loss, z, gradients and updated weights are the unchunked step's`, () => {
    const spec = chunkSpec(false);
    const feeds = feedsFor(spec);
    const whole = run(spec, undefined, feeds).out;
    const { graph, out } = run(spec, chunk, feeds);
    assert.ok(Math.abs(out.loss[0] - whole.loss[0]) <= TOL * Math.abs(whole.loss[0]), `loss ${out.loss[0]} vs ${whole.loss[0]}`);
    assertClose(out.z, whole.z, TOL, 'z');
    const names = Object.keys(whole).filter((k) => k.startsWith('grad:') || k in feeds);
    assert.ok(names.length >= 8, `compared ${names.length} tensors`);
    for (const name of names) if (name !== 'views') assertClose(out[name], whole[name], TOL, name);
    // Every chunk but the last recomputes its two convolutions before its backward pass.
    const chunks = Math.ceil(N / chunk);
    const recomputed = graph.nodes.filter((n) => n.stage === 'backward' && n.op === 'conv2d').length;
    assert.is(recomputed, 2 * (chunks - 1));
  });
}

// The reference's loss: Σ z ⊙ w, whose gradient (with the loss seed 1) is w — the chunk's rows of ∂L/∂Z.
defineOp({
  name: 'test_weighted_sum',
  shape: () => [[1]],
  reference: ([z, w]) => [Float64Array.of(z.reduce((a, v, i) => a + v * w[i], 0))],
  kernel: () => ({ programs: [] }),
  grad: ({ inputs: [, w] }) => [w, undefined],
});

test('with BatchNorm, chunks of 3 of 7 images: the step equals per-chunk normalisation, running statistics once per chunk', () => {
  const spec = chunkSpec(true);
  const feeds = feedsFor(spec);
  const { out } = run(spec, 3, feeds);
  const rows = chunkRows(N, 3);
  const inner = SIZE * SIZE;
  const D = 5;
  // (1) each chunk's z from its own images, its BatchNorm reading the statistics the previous chunk left.
  const state: Record<string, Float64Array> = {};
  const zs = rows.map(({ start, count }) => {
    const views = new Float64Array(2 * count * inner);
    views.set(feeds.views.subarray(start * inner, (start + count) * inner));
    views.set(feeds.views.subarray((N + start) * inner, (N + start + count) * inner), count * inner);
    const phase = { ...pretrainPhase(spec, count), loss: undefined };
    const { graph } = buildForward(phase);
    const values = namedOutputs(graph, evaluate(graph, { ...feeds, ...state, views }));
    for (const [name, v] of Object.entries(values)) if (name.includes('running_')) state[name] = v;
    return { views, z: values.z, count };
  });
  // (2) the loss over all 2N rows in the original order and its gradient ∂L/∂Z.
  const g = new Graph();
  const Z = g.leaf('param', [2 * N, D], 'z', { name: 'Z' });
  const loss = g.add('infonce', [Z], { temperature: spec.loss.temperature }, 'loss')[0];
  const dZ = appendBackward(g, loss, [Z]).get(Z.id)!;
  const Zv = new Float64Array(2 * N * D);
  zs.forEach(({ z, count }, c) => {
    Zv.set(z.subarray(0, count * D), rows[c].start * D);
    Zv.set(z.subarray(count * D), (N + rows[c].start) * D);
  });
  const lossValues = evaluate(g, { Z: Zv });
  assert.ok(Math.abs(out.loss[0] - lossValues[loss.id][0]) <= TOL * Math.abs(out.loss[0]), 'loss');
  // (3) each chunk's parameter gradient from its rows of ∂L/∂Z, summed over the chunks.
  const want: Record<string, Float64Array> = {};
  zs.forEach(({ views, count }, c) => {
    const gc = new Float64Array(2 * count * D);
    gc.set(lossValues[dZ.id].subarray(rows[c].start * D, (rows[c].start + count) * D));
    gc.set(lossValues[dZ.id].subarray((N + rows[c].start) * D, (N + rows[c].start + count) * D), count * D);
    const built = buildForward({ ...pretrainPhase(spec, count), loss: undefined });
    // An inference build is all 'eval'; differentiating it needs its nodes in the forward stage.
    for (const n of built.graph.nodes) n.stage = 'forward';
    const w = built.graph.leaf('input', [2 * count, D], 'test', { name: 'dz' });
    const [sum] = built.graph.add('test_weighted_sum', [built.output, w], {}, 'test');
    const grads = appendBackward(built.graph, sum, built.params);
    const values = evaluate(built.graph, { ...feeds, views, dz: gc });
    for (const p of built.params) want[p.name!] = (want[p.name!] ?? new Float64Array(values[p.id].length)).map((v, i) => v + values[grads.get(p.id)!.id][i]);
  });
  for (const [name, grad] of Object.entries(want)) assertClose(out[`grad:${name}`], grad, TOL, `∂${name}`);
  assert.ok(Object.keys(want).length >= 8);
  for (const [name, v] of Object.entries(state)) assertClose(out[name], v, TOL, name);
  assert.is(Object.keys(state).length, 4, 'two BatchNorm layers, mean and variance each');
});

test.run();
