import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp } from '../../src/kernels/index.js';
import { checkGrad, checkOp } from '../helpers/check-op.js';

// f32 sums of up to a few hundred products of numbers in [-1, 1).
const tol = 2e-5;
const op = (name: string, shapes: number[][], attrs: Record<string, unknown> = {}, target?: { isSoftware: boolean }) =>
  checkOp(name, shapes, attrs, { tol, target }).then(() => undefined);

test('conv2d: odd sizes, stride 2, padding 1, bias', () => op('conv2d', [[3, 5, 7, 7], [6, 5, 3, 3], [6]], { stride: 2, padding: 1 }));
test('conv2d: 1×1 kernel, no bias', () => op('conv2d', [[2, 8, 5, 6], [12, 8, 1, 1]]));
test('conv2d: one input channel, padding 1', () => op('conv2d', [[4, 1, 9, 9], [10, 1, 3, 3], [10]], { padding: 1 }));
test('conv2d: unequal strides and paddings, non-square kernel', () => op('conv2d', [[2, 3, 8, 6], [5, 3, 3, 2]], { stride: [2, 1], padding: [0, 1] }));
test('conv2d: padding wider than the kernel', () => op('conv2d', [[2, 3, 5, 5], [4, 3, 1, 1], [4]], { padding: [1, 2] }));
// 20 channels (1¼ blocks of 16) × 75 pixels (6¼ tiles of 12): both edges of lavapipe's 16 × 12 tile
// (16 input channels: fewer take the row-window kernel).
test('conv2d: partial channel and pixel tiles', () => op('conv2d', [[3, 16, 5, 5], [20, 16, 3, 3], [20]], { padding: 1 }));
// 12 channels (1½ blocks of 8) × 75 pixels (9⅜ tiles of 8): both edges of the 8 × 8 tile for fewer than 16 channels.
test('conv2d: partial tiles of the few-channel tile', () => op('conv2d', [[3, 16, 5, 5], [12, 16, 3, 3], [12]], { padding: 1 }));
// Fewer than 16 input channels at stride 1 along x take the row-window kernel: rows of 21 in two
// segments of 11 (the second shifted to overlap the first by a pixel), 20 channels (1¼ blocks).
test('conv2d: row window, overlapping segments, partial channel block', () => op('conv2d', [[2, 3, 4, 21], [20, 3, 3, 3], [20]], { padding: 1 }));
// A 2×5 kernel without padding (windows of 15 + 4), 6 channels in the 8-channel tile.
test('conv2d: row window, wide kernel, no padding', () => op('conv2d', [[2, 2, 6, 19], [6, 2, 2, 5]]));
// The 1-channel stem: rows of 28 in two segments of 14, 32 channels.
test('conv2d: row window, one input channel', () => op('conv2d', [[2, 1, 6, 28], [32, 1, 3, 3]], { padding: 1 }));
test('conv2d: the GPU tile variant', () => op('conv2d', [[3, 5, 7, 7], [6, 5, 3, 3], [6]], { stride: 2, padding: 1 }, { isSoftware: false }));

test('conv2d_grad_input: stride 2, padding 1', () => op('conv2d_grad_input', [[3, 6, 4, 4], [6, 5, 3, 3]], { stride: 2, padding: 1, input_size: [7, 7] }));
// The last row and column of an 8×8 input feed no output here: their gradient must be written as 0.
test('conv2d_grad_input: input pixels no output reads', () => op('conv2d_grad_input', [[2, 4, 3, 3], [4, 3, 3, 3]], { stride: 2, input_size: [8, 8] }));
// Stride 3 with a 2×2 kernel: rows and columns 2 and 5 (phase 2) are in no tap's reach.
test('conv2d_grad_input: stride above the kernel size', () => op('conv2d_grad_input', [[2, 4, 3, 3], [4, 3, 2, 2]], { stride: 3, input_size: [8, 8] }));
test('conv2d_grad_input: padding wider than the kernel', () => op('conv2d_grad_input', [[2, 4, 7, 9], [4, 3, 1, 1]], { padding: [1, 2], input_size: [5, 5] }));
test('conv2d_grad_input: 1×1 kernel, unequal strides', () => op('conv2d_grad_input', [[2, 12, 3, 6], [12, 9, 1, 1]], { stride: [2, 1], input_size: [5, 6] }));
test('conv2d_grad_input: partial channel and pixel tiles', () => op('conv2d_grad_input', [[3, 7, 5, 5], [7, 20, 3, 3]], { padding: 1, input_size: [5, 5] }));
test('conv2d_grad_input: partial tiles of the few-channel tile', () => op('conv2d_grad_input', [[3, 7, 5, 5], [7, 12, 3, 3]], { padding: 1, input_size: [5, 5] }));
test('conv2d_grad_input: the GPU tile variant', () => op('conv2d_grad_input', [[3, 6, 4, 4], [6, 5, 3, 3]], { stride: 2, padding: 1, input_size: [7, 7] }, { isSoftware: false }));

test('conv2d_grad_weight: stride 2, padding 1', () => op('conv2d_grad_weight', [[3, 5, 7, 7], [3, 6, 4, 4]], { stride: 2, padding: 1, kernel_size: [3, 3] }));
// Stride 2 along x takes the 16-tap kernel on lavapipe too: 600 rows of the implicit GEMM in 3 chunks
// of 200, so chunks end inside images.
test('conv2d_grad_weight: reduction split into chunks', () => op('conv2d_grad_weight', [[2, 1, 20, 29], [2, 10, 20, 15]], { stride: [1, 2], padding: 1, kernel_size: [3, 3] }));
// 144 taps over several tap blocks, and 2 chunks of 150 rows: later invocations take the second chunk.
test('conv2d_grad_weight: many taps, two chunks', () => op('conv2d_grad_weight', [[3, 16, 10, 20], [3, 5, 10, 10]], { stride: [1, 2], padding: 1, kernel_size: [3, 3] }));
// Stride 1 along x takes the row-walking kernel on lavapipe. 150 lines in 2 chunks of 75 (ending
// inside an image); 9 (c, ky) pairs in blocks of 5 and 4; 4 of a block of 8 channels.
test('conv2d_grad_weight: rows kernel, chunks of lines, partial pair and channel blocks', () =>
  op('conv2d_grad_weight', [[5, 3, 30, 6], [5, 4, 30, 6]], { padding: 1, kernel_size: [3, 3] }));
// A 1-channel stem: 3 pairs, 10 channels (a block and a bit), 150 lines in 2 chunks.
test('conv2d_grad_weight: rows kernel, one input channel', () => op('conv2d_grad_weight', [[3, 1, 50, 7], [3, 10, 50, 7]], { padding: 1, kernel_size: [3, 3] }));
// No padding, a 3×5 kernel (a window of 5), 21 pairs in blocks of 6, 6, 6 and 3, 11 channels.
test('conv2d_grad_weight: rows kernel, wide non-square kernel, no padding', () =>
  op('conv2d_grad_weight', [[2, 7, 9, 12], [2, 11, 7, 8]], { kernel_size: [3, 5] }));
test('conv2d_grad_weight: rows kernel, 1×1 kernel', () => op('conv2d_grad_weight', [[2, 8, 5, 6], [2, 12, 5, 6]], { kernel_size: [1, 1] }));
test('conv2d_grad_weight: the GPU tile variant, 4 chunks', () => op('conv2d_grad_weight', [[2, 1, 20, 20], [2, 10, 20, 20]], { padding: 1, kernel_size: [3, 3] }, { isSoftware: false }));
test('conv2d_grad_weight: unequal strides, non-square kernel', () => op('conv2d_grad_weight', [[2, 3, 8, 6], [2, 5, 3, 7]], { stride: [2, 1], padding: [0, 1], kernel_size: [3, 2] }));
test('conv2d_grad_bias', () => op('conv2d_grad_bias', [[3, 6, 4, 5]]));

test('conv2d gradient equals finite differences: stride 2, padding 1, bias', () => void checkGrad('conv2d', [[2, 3, 5, 5], [4, 3, 3, 3], [4]], { stride: 2, padding: 1 }));
test('conv2d gradient equals finite differences: 1×1, unequal strides', () => void checkGrad('conv2d', [[2, 3, 5, 4], [2, 3, 1, 1]], { stride: [1, 2] }));
test('conv2d gradient equals finite differences: non-square kernel, padding only', () => void checkGrad('conv2d', [[1, 2, 4, 5], [3, 2, 2, 3], [3]], { padding: [1, 0] }));

test('conv2d shapes follow PyTorch and reject mismatches', () => {
  const conv = getOp('conv2d');
  assert.equal(conv.shape([[256, 1, 28, 28], [32, 1, 3, 3], [32]], { padding: 1 }), [[256, 32, 28, 28]]);
  assert.equal(conv.shape([[8, 32, 28, 28], [64, 32, 3, 3]], { stride: 2, padding: 1 }), [[8, 64, 14, 14]]);
  assert.throws(() => conv.shape([[1, 3, 8, 8], [4, 2, 3, 3]], {}), /2 input channels, the input has 3/);
  assert.throws(() => conv.shape([[1, 3, 2, 2], [4, 3, 3, 3]], {}), /does not fit/);
  assert.throws(() => conv.shape([[1, 3, 8, 8], [4, 3, 3, 3]], { stride: 0 }), /stride must be at least 1/);
});

test.run();
