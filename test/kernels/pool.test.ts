import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp, type Shape } from '../../src/kernels/index.js';
import type { MaxPoolAttrs, MaxPoolBackwardAttrs } from '../../src/kernels/pool.js';
import { checkGrad, checkOp, cpuGrad, randomInputs, runOnGpu } from '../helpers/check-op.js';
import { assertClose } from '../helpers/numeric.js';

const windows = [
  { kernel: 3, stride: 2, padding: 1 },
  { kernel: 2, stride: 2, padding: 0 },
  { kernel: 3, stride: 1, padding: 0 },
  { kernel: 2, stride: 3, padding: 1 },
];

/** The backward's operands [argmax, ∂y] as the forward saves them for x (the reference's argmax of a random x). */
function backwardInputs(x: Shape, attrs: MaxPoolAttrs, seed = 1): { inputs: Float64Array[]; shapes: Shape[]; attrs: MaxPoolBackwardAttrs } {
  const [, arg] = getOp('maxpool2d').reference(randomInputs([x], seed), [x], attrs);
  const [y] = getOp('maxpool2d').shape([x], attrs);
  return { inputs: [arg, randomInputs([y], seed + 1)[0]], shapes: [y, y], attrs: { ...attrs, input_size: x.slice(2) } };
}

for (const attrs of windows) {
  test(`maxpool2d ${JSON.stringify(attrs)} and its backward match their references`, async () => {
    for (const x of [[2, 3, 9, 7], [1, 2, 4, 12]]) {
      await checkOp('maxpool2d', [x], attrs);
      const back = backwardInputs(x, attrs);
      await checkOp('maxpool2d_backward', back.shapes, back.attrs, { inputs: back.inputs });
    }
  });
  // The argmax output is piecewise constant: only y carries a gradient.
  test(`maxpool2d ${JSON.stringify(attrs)} gradient equals finite differences`, () => void checkGrad('maxpool2d', [[1, 2, 6, 5]], attrs, { outputs: [0] }));
}

test('maxpool2d sends a tied window its gradient at the first maximum, as PyTorch', async () => {
  // One 2×2 window of equal values: all of ∂y goes to element 0.
  const x = Float64Array.of(1, 1, 1, 1);
  const g = Float64Array.of(5);
  const attrs = { kernel: 2, stride: 2, padding: 0 };
  const [, arg] = await runOnGpu('maxpool2d', [x], [[1, 1, 2, 2]], attrs);
  assert.equal([...arg], [0]);
  const [dx] = await runOnGpu('maxpool2d_backward', [Float64Array.from(arg), g], [[1, 1, 1, 1], [1, 1, 1, 1]], { ...attrs, input_size: [2, 2] });
  assert.equal([...dx], [5, 0, 0, 0]);
  assert.equal([...cpuGrad('maxpool2d', [x], [[1, 1, 2, 2]], attrs, [g])[0]!], [5, 0, 0, 0]);
});

test('maxpool2d rejects padding over half the kernel', () => {
  assert.throws(() => getOp('maxpool2d').shape([[1, 1, 8, 8]], { kernel: 2, stride: 2, padding: 2 }), /padding 2 must be at most half/);
});

for (const name of ['global_avg_pool', 'global_max_pool', 'cat_avg_max']) {
  test(`${name} and its backward match their references`, async () => {
    for (const x of [[3, 5, 7, 6], [2, 4, 1, 1]]) {
      await checkOp(name, [x]);
      await checkOp(`${name}_backward`, [x, getOp(name).shape([x], {})[0]]);
    }
  });
  // Distinct values (a shuffled ramp): a near-tie within the difference step would make max non-smooth there.
  const ramp = Float64Array.from({ length: 120 }, (_, i) => ((i * 37) % 120) / 60 - 1);
  test(`${name} gradient equals finite differences`, () => void checkGrad(name, [[2, 3, 4, 5]], {}, { inputs: [ramp] }));
}

test('cat_avg_max puts the average first', async () => {
  const x = Float64Array.of(1, 2, 3, 6, 0, -4, -2, -6); // N=1, C=2, 2×2
  const [y] = await runOnGpu('cat_avg_max', [x], [[1, 2, 2, 2]], {});
  assertClose(y, [3, -3, 6, 0], 1e-7, 'cat_avg_max [avg c0, avg c1, max c0, max c1]');
});

test('flatten is a view of its input and its gradient a view back', async () => {
  const def = getOp('flatten');
  assert.equal(def.shape([[2, 3, 4, 5]], {}), [[2, 60]]);
  assert.is(def.kernel([[2, 3, 4, 5]], {}, { isSoftware: true, hasF16: false, maxWorkgroupInvocations: 256, maxStorageBufferBindingSize: 1 << 27, maxWorkgroupsPerDimension: 65535 }).programs.length, 0);
  assert.equal(def.inplace, { 0: 0 });
  await checkOp('flatten', [[2, 3, 4, 5]]);
  checkGrad('flatten', [[2, 3, 2, 2]]);
  await checkOp('reshape', [[6, 4]], { shape: [2, 3, 4] });
  checkGrad('reshape', [[6, 4]], { shape: [2, 3, 4] });
  assert.throws(() => getOp('reshape').shape([[2, 3]], { shape: [4, 2] }), /cannot turn/);
});

test.run();
