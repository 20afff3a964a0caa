import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkGrad, checkOp } from '../helpers/check-op.js';

// Sizes that divide no tile (37×53×29) run the scalar variant; multiples of 4 run the vec4 one.
const odd = { M: 37, K: 53, N: 29 };
const even = { M: 20, K: 36, N: 44 };
const hardware = { isSoftware: false };

for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    const attrs = { transA, transB };
    const shapes = ({ M, K, N }: typeof odd) => [transA ? [K, M] : [M, K], transB ? [N, K] : [K, N]];
    test(`matmul ${JSON.stringify(attrs)} matches its reference`, async () => {
      await checkOp('matmul', shapes(odd), attrs);
      await checkOp('matmul', shapes(even), attrs);
      await checkOp('matmul', shapes({ M: 3, K: 4, N: 8 }), attrs);
    });
    test(`matmul ${JSON.stringify(attrs)} gradient equals finite differences`, () => void checkGrad('matmul', shapes({ M: 5, K: 3, N: 6 }), attrs));
  }
}

test('matmul and linear tiled variant (workgroup memory, for discrete GPUs) match their references', async () => {
  await checkOp('matmul', [[37, 53], [53, 29]], {}, { target: hardware });
  await checkOp('matmul', [[70, 20], [66, 70]], { transA: true, transB: true }, { target: hardware });
  await checkOp('linear', [[37, 53], [29, 53], [29]], {}, { target: hardware });
});

test('matmul rejects mismatched inner sizes', async () => {
  const { getOp } = await import('../../src/kernels/index.js');
  assert.throws(() => getOp('matmul').shape([[3, 4], [5, 6]], {}), /inner sizes differ/);
});

test('linear with and without bias matches its reference', async () => {
  await checkOp('linear', [[37, 53], [29, 53], [29]]);
  await checkOp('linear', [[12, 32], [16, 32], [16]]);
  await checkOp('linear', [[37, 53], [29, 53]]);
  await checkOp('linear', [[12, 32], [16, 32]]);
});

test('linear gradient equals finite differences', () => {
  checkGrad('linear', [[5, 7], [3, 7], [3]]);
  checkGrad('linear', [[4, 6], [5, 6]]);
});

test('sum_rows matches its reference', async () => {
  await checkOp('sum_rows', [[37, 29]]);
  await checkOp('sum_rows', [[1, 300]]);
});

test.run();
