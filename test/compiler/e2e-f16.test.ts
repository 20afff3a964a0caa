// train.precision: f16 on the golden step: activations and their gradients stored as f16, the loss
// scaled dynamically. The GPU step is checked twice: against the float64 evaluation of the same f16
// graph (every f16 store rounded, so the rewrite itself must be exact up to f32 arithmetic) and
// against PyTorch's float64 step, where the tolerance is what f16 storage itself costs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../src/compiler/compile.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { loadSpecFile } from '../../src/spec/index.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { LOSS_SCALE, LOSS_SCALE_NAMES } from '../../src/ir/loss-scale.js';
import { optimizerFor, stepScalars } from '../../src/ir/optimizer.js';
import { assertClose, relError } from '../helpers/numeric.js';
import { e2e, e2eFeeds, e2eOptimizers, e2eSpec, graphName } from './e2e-case.js';

const c = e2e();
const optimizers = e2eOptimizers(c);
// Against PyTorch the tolerance is what f16 storage itself costs: the float64 evaluation of the same
// f16 graph (every store rounded) is off from PyTorch by 1.6e-3 in the loss and up to 22% of a
// tensor's largest element in the gradients (a BatchNorm bias gradient over 12 samples is a sum of
// nearly cancelling terms, whose roundings survive the cancellation; most are off by 1–8%). The GPU
// is held to that error ×1.3 plus its own distance from the f16 graph, capped at 0.3.
const OWN_ERROR = 1.3;
const CAP = 0.3;
// The GPU against the float64 evaluation of the f16 graph: f32 arithmetic flips the rounding of an
// f16 store by one ulp (2^-10 relative) here and there, and BatchNorm's backward amplifies it; seen:
// 1.4e-4 in the loss, ≤ 1.1e-2 in the gradients.
const SAME_GRAPH_LOSS_TOL = 1e-3;
const SAME_GRAPH_TOL = 2e-2;
// At 2^16 this tiny network's gradients overflow f16 (a real run skips its first steps until the
// scale fits): the comparison starts at 2^10, which they fit.
const SCALE = 2 ** 10;

async function f16Step(kind: keyof typeof optimizers, keepGrads: boolean, scale = SCALE, edit: (feeds: Record<string, ArrayLike<number>>) => void = () => {}) {
  const rt = await runtime();
  const spec = e2eSpec(c, optimizers[kind]);
  const compiled = compile(spec, { target: rt.target, batch: c.n, keepGrads, precision: 'f16' });
  const feeds: Record<string, ArrayLike<number>> = { ...e2eFeeds(c), [LOSS_SCALE_NAMES.scale]: [scale] };
  edit(feeds);
  const ex = await StepExecutor.create(rt, compiled.kernels, { initial: feeds });
  const scalars = stepScalars(optimizers[kind], 1, optimizers[kind].lr);
  ex.setStep(scalars);
  const loss = await ex.step();
  return { ex, loss, compiled, feeds, scalars };
}

test('f16 plan of the MNIST default: f16 activation buffers, f32 weights and state, under 0.6 of the f32 peak', () => {
  const spec = loadSpecFile('examples/mnist.simclr').spec!;
  const at = (precision: 'f32' | 'f16') =>
    compile({ ...spec, optimizer: optimizerFor(spec.optimizer, spec.train.batch_size) }, { target: { ...SOFTWARE_TARGET, hasF16: true }, precision }).kernels;
  const half = at('f16');
  const full = at('f32');
  assert.ok(half.buffers.some((b) => b.dtype === 'f16'), 'some buffer holds f16');
  for (const b of half.buffers) if (b.kind === 'param' || b.kind === 'state') assert.ok(b.dtype === undefined, `${b.name} stays f32`);
  // Measured 0.52: every activation and activation gradient halves, and so does a convolution's
  // padded copy of one; other kernel scratch (partial sums) and weight gradients stay f32.
  const ratio = half.memory.plannedBytes / full.memory.plannedBytes;
  assert.ok(ratio < 0.6, `planned peak f16/f32 = ${ratio.toFixed(3)}`);
});

test('GPU f16: loss and every gradient against the f16 graph in float64 and against PyTorch', async () => {
  const rt = await runtime();
  assert.ok(rt.target.hasF16, 'the adapter lacks shader-f16: the f16 step cannot be checked (lavapipe 25 has it)');
  const { ex, loss, compiled, feeds, scalars } = await f16Step('sgd', true);
  const want = namedOutputs(compiled.graph, evaluate(compiled.graph, feeds, scalars));
  const lossTol = Math.min(CAP, OWN_ERROR * relError(want.loss, [c.loss]) + SAME_GRAPH_LOSS_TOL);
  assert.ok(relError([loss], want.loss) <= SAME_GRAPH_LOSS_TOL, `loss ${loss} vs the f16 graph's ${want.loss[0]}`);
  assert.ok(relError([loss], [c.loss]) <= lossTol, `loss ${loss} vs PyTorch ${c.loss}`);
  for (const [name, golden] of Object.entries(c.grads)) {
    const got = await ex.read(`grad:${graphName(name)}`);
    const graph = want[`grad:${graphName(name)}`];
    assertClose(got, graph, SAME_GRAPH_TOL, `∂${name} vs the f16 graph`);
    assertClose(got, golden, Math.min(CAP, OWN_ERROR * relError(graph, golden) + SAME_GRAPH_TOL), `∂${name} vs PyTorch`);
  }
  assert.is((await ex.read(LOSS_SCALE_NAMES.scale))[0], SCALE, 'a clean step keeps the scale');
  ex.destroy();
});

test('GPU f16: an overflowing step is skipped (weights and momentum unchanged) and the scale halves', async () => {
  const rt = await runtime();
  assert.ok(rt.target.hasF16, 'the adapter lacks shader-f16: the f16 step cannot be checked (lavapipe 25 has it)');
  const { ex, feeds } = await f16Step('sgd', false, 2 ** 40);
  assert.is((await ex.read(LOSS_SCALE_NAMES.scale))[0], 2 ** 39, 'halved');
  assert.is((await ex.read(LOSS_SCALE_NAMES.clean))[0], 0, 'clean-step count reset');
  for (const [name, before] of Object.entries(c.params)) {
    if (!name.endsWith('num_batches_tracked') && !name.includes('running_')) assert.equal([...(await ex.read(graphName(name)))], [...Float32Array.from(before)], `${name} unchanged`);
  }
  const momentum = ex.persistentNames.filter((n) => n.endsWith('.momentum'));
  assert.ok(momentum.length > 0, 'momentum buffers');
  for (const name of momentum) assert.ok((await ex.read(name)).every((x) => x === 0), `${name} stays zero`);
  await assertStatsUntouched(ex, feeds);
  ex.destroy();
});

/** BatchNorm's running statistics as they started (fed, or 0 and 1): a skipped step must not move them. */
async function assertStatsUntouched(ex: StepExecutor, feeds: Record<string, ArrayLike<number>>): Promise<void> {
  const stats = ex.persistentNames.filter((n) => /\.running_(mean|var)$/.test(n));
  assert.ok(stats.length >= 4, `running statistics: ${stats.join(', ')}`);
  for (const name of stats) {
    const got = await ex.read(name);
    const want = feeds[name] ? Float32Array.from(feeds[name]) : new Float32Array(got.length).fill(name.endsWith('running_mean') ? 0 : 1);
    assert.equal([...got], [...want], `${name} unchanged`);
  }
}

test('GPU f16: a forward overflow skips the step without writing inf or NaN into BatchNorm running statistics', async () => {
  const rt = await runtime();
  assert.ok(rt.target.hasF16, 'the adapter lacks shader-f16: the f16 step cannot be checked (lavapipe 25 has it)');
  // The stem convolution's weights ×1e6: its f16 output is inf, so the first BatchNorm's batch statistics are inf/NaN.
  const stem = graphName(Object.keys(c.params).find((n) => n.endsWith('weight'))!);
  const { ex, feeds } = await f16Step('sgd', false, SCALE, (f) => {
    f[stem] = Float32Array.from(f[stem], (x) => x * 1e6);
  });
  assert.is((await ex.read(LOSS_SCALE_NAMES.scale))[0], SCALE / 2, 'skipped: the scale halves');
  await assertStatsUntouched(ex, feeds);
  ex.destroy();
});

test('GPU f16: a clean step still updates BatchNorm running statistics', async () => {
  const { ex, feeds } = await f16Step('sgd', false);
  const mean = ex.persistentNames.find((n) => n.endsWith('running_mean'))!;
  const before = feeds[mean] ? Float32Array.from(feeds[mean]) : new Float32Array(0);
  assert.ok((await ex.read(mean)).some((x, i) => x !== (before[i] ?? 0)), `${mean} moved`);
  ex.destroy();
});

test('loss scale: GradScaler growth after growth_interval clean steps, in the reference', async () => {
  const { getOp } = await import('../../src/kernels/index.js');
  const up = getOp('loss_scale_update');
  const { init: _i, ...attrs } = LOSS_SCALE;
  const f = (x: number[]) => Float64Array.from(x);
  assert.equal([...up.reference([f([8]), f([attrs.growth_interval - 1]), f([0])], [], attrs).map((x) => x[0])], [16, 0]);
  assert.equal([...up.reference([f([8]), f([5]), f([0])], [], attrs).map((x) => x[0])], [8, 6]);
  assert.equal([...up.reference([f([8]), f([5]), f([1])], [], attrs).map((x) => x[0])], [4, 0]);
});

test.run();
