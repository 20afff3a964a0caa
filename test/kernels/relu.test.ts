import { test } from 'uvu';
import { checkGrad, checkOp } from '../helpers/check-op.js';

test('relu matches its reference', () => checkOp('relu', [[3, 7, 5]]).then(() => undefined));
test('relu_backward matches its reference', () => checkOp('relu_backward', [[1001], [1001]]).then(() => undefined));
test('relu gradient equals finite differences', () => void checkGrad('relu', [[4, 9]]));

test.run();
