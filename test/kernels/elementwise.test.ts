import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flatGroups } from '../../src/kernels/elementwise.js';
import { checkGrad, checkOp } from '../helpers/check-op.js';

test('add matches its reference', async () => {
  await checkOp('add', [[3, 7, 5], [3, 7, 5]]);
  await checkOp('add', [[1001], [1001]]);
});

test('add gradient equals finite differences', () => void checkGrad('add', [[4, 9], [4, 9]]));

test('flat grids fold into a second dimension past 65535 workgroups and cover every element', () => {
  assert.equal(flatGroups(1000, 256), [4, 1]);
  const [x, y] = flatGroups(65536 * 256 + 1, 256);
  assert.ok(x <= 65535 && x * y * 256 >= 65536 * 256 + 1, `${x}×${y}`);
});

test.run();
