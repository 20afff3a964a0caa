import { test } from 'uvu';
import { checkGrad, checkOp, runOnGpu } from '../helpers/check-op.js';
import { assertClose } from '../helpers/numeric.js';

test('l2_normalize and its backward match their references', async () => {
  for (const z of [[37, 29], [8, 128], [1, 3]]) {
    await checkOp('l2_normalize', [z]);
    await checkOp('l2_normalize_backward', [z, z]);
  }
});

test('l2_normalize gradient equals finite differences', () => void checkGrad('l2_normalize', [[5, 7]]));

test('l2_normalize leaves a zero row at zero (the norm is clamped at 1e-12)', async () => {
  const [u] = await runOnGpu('l2_normalize', [Float64Array.of(0, 0, 0, 3, 4, 0)], [[2, 3]], {});
  assertClose(u, [0, 0, 0, 0.6, 0.8, 0], 1e-7, 'u');
});

test.run();
