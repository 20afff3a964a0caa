import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp } from '../../src/kernels/index.js';
import { checkGrad, checkOp, randomInputs, runOnGpu } from '../helpers/check-op.js';
import { assertClose, randoms } from '../helpers/numeric.js';
import { layer } from '../helpers/spec.js';

/** The spec's batchnorm layer: the attrs a test does not vary. */
const { eps, momentum } = layer({ type: 'batchnorm' });
const bn = { eps, momentum };

const positive = (count: number, seed: number) => randoms(count, seed, 0.2, 2);
/** Random x, γ, β and running mean; a positive running variance. */
const bnInputs = (c: number) => [undefined, undefined, undefined, undefined, positive(c, 11)];
const shapes = (x: number[]) => [x, [x[1]], [x[1]], [x[1]], [x[1]]];

test('batchnorm 2-D, flat and per plane: y, running stats, saved statistics', async () => {
  await checkOp('batchnorm', shapes([3, 5, 5, 5]), bn, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm', shapes([3, 5, 7, 7]), bn, { tol: 1e-5, inputs: bnInputs(5) });
});
test('batchnorm 1-D: [N, C]', () => checkOp('batchnorm', shapes([7, 6]), bn, { tol: 1e-5, inputs: bnInputs(6) }).then(() => undefined));
test('batchnorm: two values per channel, momentum 0.3, eps 1e-3', () =>
  checkOp('batchnorm', shapes([2, 3]), { momentum: 0.3, eps: 1e-3 }, { tol: 1e-5, inputs: bnInputs(3) }).then(() => undefined));

// A mean of 100 over a spread of ±1: E[x²] − E[x]² in f32 would lose about 3 digits of the variance.
// (81-pixel planes: the per-plane apply.)
test('batchnorm statistics survive a large mean', () => {
  const x = randoms(4 * 3 * 9 * 9, 5).map((v) => 100 + v);
  return checkOp('batchnorm', shapes([4, 3, 9, 9]), bn, { tol: 5e-5, inputs: [x, undefined, undefined, undefined, positive(3, 2)] }).then(() => undefined);
});

// The one-pass statistics sum around each channel's first value: an outlying one (8 away from a
// spread of ±1, around a mean of 100) must cost the variance no more digits than the large mean does.
// (9×9 planes read element by element, 8×8 ones a 4-vector at a time.)
test('batchnorm statistics survive an outlying first value', async () => {
  for (const side of [9, 8]) {
    const [n, c, hw] = [4, 3, side * side];
    const x = randoms(n * c * hw, 6).map((v, i) => 100 + v + (i < c * hw && i % hw === 0 ? 8 : 0));
    await checkOp('batchnorm', shapes([n, c, side, side]), bn, { tol: 5e-5, inputs: [x, undefined, undefined, undefined, positive(c, 2)] });
  }
});

test('batchnorm updates running stats in place as PyTorch does (unbiased variance)', async () => {
  const [n, c, hw] = [4, 3, 6];
  const x = randoms(n * c * hw, 21);
  const runningMean = randoms(c, 22);
  const runningVar = positive(c, 23);
  const inputs = [x, randoms(c, 24), randoms(c, 25), runningMean, runningVar];
  const got = await runOnGpu('batchnorm', inputs, shapes([n, c, 2, 3]), { ...bn, momentum: 0.25 });
  const m = n * hw;
  const mean = new Float64Array(c);
  const unbiased = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const values = [...Array(m).keys()].map((i) => x[(Math.floor(i / hw) * c + ch) * hw + (i % hw)]);
    mean[ch] = values.reduce((a, b) => a + b, 0) / m;
    unbiased[ch] = values.reduce((a, v) => a + (v - mean[ch]) ** 2, 0) / (m - 1);
  }
  assertClose(got[1], runningMean.map((r, ch) => 0.75 * r + 0.25 * mean[ch]), 1e-6, 'running_mean');
  assertClose(got[2], runningVar.map((r, ch) => 0.75 * r + 0.25 * unbiased[ch]), 1e-6, 'running_var');
});

// Planes of 32 pixels or more run one workgroup row per (sample, channel); smaller ones run flat.
test('batchnorm_eval 2-D (flat and per plane) and 1-D', async () => {
  await checkOp('batchnorm_eval', shapes([3, 5, 5, 5]), { ...bn, eps: 1e-3 }, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm_eval', shapes([3, 5, 7, 7]), { ...bn, eps: 1e-3 }, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm_eval', shapes([2, 3, 8, 8]), bn, { tol: 1e-5, inputs: bnInputs(3) });
  await checkOp('batchnorm_eval', shapes([9, 4]), bn, { tol: 1e-5, inputs: bnInputs(4) });
});

test('batchnorm_backward: training, 2-D (flat and per plane) and 1-D', async () => {
  await checkOp('batchnorm_backward', [[3, 5, 5, 5], [5], [5], [5], [3, 5, 5, 5]], bn, { tol: 1e-5 });
  await checkOp('batchnorm_backward', [[3, 5, 7, 7], [5], [5], [5], [3, 5, 7, 7]], bn, { tol: 1e-5 });
  await checkOp('batchnorm_backward', [[2, 3, 9, 9], [3], [3], [3], [2, 3, 9, 9]], bn, { tol: 1e-5 });
  await checkOp('batchnorm_backward', [[7, 6], [6], [6], [6], [7, 6]], bn, { tol: 1e-5 });
});
// Planes of whole 4-vectors (12×12: 36 vectors, a partial step of the plane loop) go a vector at a time.
test('batchnorm, batchnorm_eval and batchnorm_backward on 4-vector planes', async () => {
  await checkOp('batchnorm', shapes([3, 5, 12, 12]), bn, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm_eval', shapes([3, 5, 12, 12]), bn, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm_backward', [[3, 5, 12, 12], [5], [5], [5], [3, 5, 12, 12]], bn, { tol: 1e-5 });
  await checkOp('batchnorm_backward', [[2, 3, 4, 20], [3], [3], [3], [2, 3, 4, 20]], { ...bn, eval: true }, { tol: 1e-5, inputs: [undefined, undefined, undefined, positive(3, 9)] });
});
// 16×20 planes: 320 4-vectors per channel over 256 invocations, so the reductions' loops wrap mid-plane.
test('batchnorm and batchnorm_backward reductions over several 4-vectors per invocation', async () => {
  await checkOp('batchnorm', shapes([4, 3, 16, 20]), bn, { tol: 1e-5, inputs: bnInputs(3) });
  await checkOp('batchnorm_backward', [[4, 3, 16, 20], [3], [3], [3], [4, 3, 16, 20]], bn, { tol: 1e-5 });
});
test('batchnorm_backward: eval', () =>
  checkOp('batchnorm_backward', [[3, 5, 7, 7], [5], [5], [5], [3, 5, 7, 7]], { ...bn, eval: true }, { tol: 1e-5, inputs: [undefined, undefined, undefined, positive(5, 9)] }).then(() => undefined));

test('batchnorm gradient equals finite differences, 2-D', () => void checkGrad('batchnorm', shapes([3, 2, 3, 3]), bn, { outputs: [0], inputs: bnInputs(2) }));
test('batchnorm gradient equals finite differences, 1-D', () => void checkGrad('batchnorm', shapes([5, 3]), { ...bn, eps: 1e-3 }, { outputs: [0], inputs: bnInputs(3) }));
test('batchnorm_eval gradient equals finite differences', () => void checkGrad('batchnorm_eval', shapes([2, 3, 2, 2]), bn, { inputs: bnInputs(3) }));

test('batchnorm shapes and errors', () => {
  const bn = getOp('batchnorm');
  assert.equal(bn.shape(shapes([8, 4, 5, 5]), {}), [[8, 4, 5, 5], [4], [4], [4], [4]]);
  assert.equal(bn.inplace, { 1: 3, 2: 4 });
  assert.throws(() => bn.shape(shapes([1, 4]), {}), /more than one value per channel/);
  assert.throws(() => bn.shape([[8, 4], [4], [3], [4], [4]], {}), /beta must be \[4\]/);
});

test('sync batchnorm programs (replicas 1: nothing between them) give the op and its backward', async () => {
  const sync = { ...bn, replicas: 1 };
  await checkOp('batchnorm', shapes([3, 5, 7, 7]), sync, { tol: 1e-5, inputs: bnInputs(5) });
  await checkOp('batchnorm', shapes([7, 6]), sync, { tol: 1e-5, inputs: bnInputs(6) });
  await checkOp('batchnorm_backward', [[3, 5, 12, 12], [5], [5], [5], [3, 5, 12, 12]], sync, { tol: 1e-5 });
  await checkOp('batchnorm_backward', [[7, 6], [6], [6], [6], [7, 6]], sync, { tol: 1e-5 });
});

// With `relu` the gradient passes only where the output the forward would apply, (x − mean)·γ·invstd + β,
// is positive: the reference must be the plain backward of the gradient masked so, and each program
// (training, eval, sync; element-wise, 4-vector and flat planes) must match it.
test('batchnorm_backward with the relu mask recomputed from x: reference and GPU', async () => {
  const cases: [number[], Record<string, unknown>][] = [
    [[3, 5, 12, 12], bn],
    [[2, 3, 9, 9], bn],
    [[7, 6], bn],
    [[3, 5, 7, 7], { ...bn, eval: true }],
    [[3, 5, 12, 12], { ...bn, replicas: 1 }],
  ];
  for (const [x, attrs] of cases) {
    const c = x[1];
    const s = [x, [c], [c], [c], x, [c]];
    const inputs = randomInputs(s, 4, [undefined, undefined, undefined, attrs.eval ? positive(c, 9) : undefined]);
    const [xs, gamma, mean, stat, gy, beta] = inputs;
    const invstd = attrs.eval ? stat.map((v) => 1 / Math.sqrt(v + eps)) : stat;
    const inner = x.slice(2).reduce((a, b) => a * b, 1);
    const masked = gy.map((g, i) => {
      const ch = Math.floor(i / inner) % c;
      return (xs[i] - mean[ch]) * invstd[ch] * gamma[ch] + beta[ch] > 0 ? g : 0;
    });
    assert.ok(masked.some((g) => g === 0) && masked.some((g) => g !== 0), 'the mask both passes and blocks');
    const def = getOp('batchnorm_backward');
    const want = def.reference([xs, gamma, mean, stat, masked], s.slice(0, 5), attrs);
    def.reference(inputs, s, { ...attrs, relu: true }).forEach((got, k) => assertClose(got, want[k], 1e-12, `reference output ${k} of ${JSON.stringify([x, attrs])}`));
    await checkOp('batchnorm_backward', s, { ...attrs, relu: true }, { tol: 1e-5, inputs });
  }
});

test.run();
