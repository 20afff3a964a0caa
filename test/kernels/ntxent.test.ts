import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkGrad, checkOp, runOnGpu } from '../helpers/check-op.js';
import { golden, type NtxentCase } from '../helpers/golden.js';
import { assertClose, randoms } from '../helpers/numeric.js';


// Every golden case: the largest (2N = 256) is a 256×256 similarity matrix, small for lavapipe.
for (const c of golden<{ cases: NtxentCase[] }>('ntxent.json').cases) {
  test(`ntxent N=${c.n} D=${c.d} τ=${c.temperature}: loss and ∂z equal PyTorch's within 1e-5`, async () => {
    const shape = [2 * c.n, c.d];
    const attrs = { temperature: c.temperature };
    const z = Float64Array.from(c.z);
    const [loss] = await runOnGpu('ntxent', [z], [shape], attrs);
    assertClose(loss, [c.loss], 1e-5, 'loss');
    const [grad] = await runOnGpu('ntxent_backward', [z, Float64Array.of(1)], [shape, [1]], attrs);
    assertClose(grad, c.grad, 1e-5, '∂L/∂z');
  });
}

test('ntxent and its backward match their references on random input', async () => {
  await checkOp('ntxent', [[14, 9]], { temperature: 0.3 });
  await checkOp('ntxent_backward', [[14, 9], [1]], { temperature: 0.3 });
});

test('ntxent gradient equals finite differences', () => void checkGrad('ntxent', [[6, 5]], { temperature: 0.5 }));

test('ntxent of collapsed features (identical rows) is ln(2N − 1)', async () => {
  const N = 5;
  const row = randoms(7, 11);
  const z = new Float64Array(2 * N * 7).map((_, i) => row[i % 7]);
  const [loss] = await runOnGpu('ntxent', [z], [[2 * N, 7]], { temperature: 0.07 });
  assertClose(loss, [Math.log(2 * N - 1)], 1e-5, 'collapsed loss');
});

test('ntxent rejects an odd number of rows', async () => {
  const { getOp } = await import('../../src/kernels/index.js');
  assert.throws(() => getOp('ntxent').shape([[5, 3]], { temperature: 0.1 }), /z\[2N, D\]/);
});

test.run();
