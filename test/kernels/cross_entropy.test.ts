import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp } from '../../src/kernels/index.js';
import { checkGrad, checkOp } from '../helpers/check-op.js';
import { randoms } from '../helpers/numeric.js';

/** Class ids of `b` rows over `c` classes, with some rows marked −1 (not counted). */
const labels = (b: number, c: number, skip = 5) => Float64Array.from({ length: b }, (_, i) => (i % skip === skip - 1 ? -1 : (i * 7) % c));

test('reference on a hand-worked example: uniform logits give ln C, skipped rows do not count', () => {
  const z = Float64Array.from([0, 0, 0, 5, 1, 1, 9, 9, 9]);
  const [loss] = getOp('cross_entropy').reference([z, Float64Array.of(2, 0, -1)], [[3, 3], [3]], {});
  // Row 0: ln 3. Row 1: log(e⁵ + 2e) − 5 = 0.03597. Row 2 skipped: the mean is over two rows.
  assert.ok(Math.abs(loss[0] - (Math.log(3) + Math.log(Math.exp(5) + 2 * Math.E) - 5) / 2) < 1e-12, `${loss[0]}`);
});

test('cross_entropy matches its reference (odd shapes, large logits)', async () => {
  await checkOp('cross_entropy', [[37, 7], [37]], {}, { inputs: [randoms(37 * 7, 4, -30, 30), labels(37, 7)] });
  await checkOp('cross_entropy', [[300, 10], [300]], {}, { inputs: [undefined, labels(300, 10, 17)] });
});

test('cross_entropy_backward matches its reference', async () => {
  await checkOp('cross_entropy_backward', [[37, 7], [37], [1]], {}, { inputs: [randoms(37 * 7, 5, -30, 30), labels(37, 7), Float64Array.of(0.7)] });
  await checkOp('cross_entropy_backward', [[513, 3], [513], [1]], {}, { inputs: [undefined, labels(513, 3), Float64Array.of(1)] });
});

test('scale weighs the loss and its gradient: the reference is scale × the unweighted one, and the WGSL matches', async () => {
  const z = randoms(45, 8, -3, 3);
  const y = labels(9, 5, 4);
  const [plain] = getOp('cross_entropy').reference([z, y], [[9, 5], [9]], {});
  const [weighted] = getOp('cross_entropy').reference([z, y], [[9, 5], [9]], { scale: 0.3 });
  assert.ok(Math.abs(weighted[0] - 0.3 * plain[0]) < 1e-15, `${weighted[0]} vs 0.3 × ${plain[0]}`);
  await checkOp('cross_entropy', [[37, 7], [37]], { scale: 0.3 }, { inputs: [randoms(37 * 7, 4, -30, 30), labels(37, 7)] });
  await checkOp('cross_entropy_backward', [[37, 7], [37], [1]], { scale: 0.3 }, { inputs: [randoms(37 * 7, 5, -30, 30), labels(37, 7), Float64Array.of(0.7)] });
  checkGrad('cross_entropy', [[9, 5], [9]], { scale: 0.3 }, { inputs: [z, y] });
});

test('cross_entropy gradient equals finite differences', () => {
  checkGrad('cross_entropy', [[9, 5], [9]], {}, { inputs: [randoms(45, 6, -3, 3), labels(9, 5, 4)] });
});

test.run();
