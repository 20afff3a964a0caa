// relu and its backward: the smallest ops, and the pattern every pointwise op follows: the row
// declares the element expression, and its reference and kernel are that expression.
import { pointwiseKernel } from './fused_elementwise.js';
import { defineOp, numel, pointwiseReference, type Pointwise } from './op.js';

const relu: Pointwise = {
  wgsl: ([x], type) => `max(${x}, ${type}(0.0))`,
  f64: ([x]) => (x > 0 ? x : 0),
};

defineOp({
  name: 'relu',
  shape: ([x]) => [x],
  reference: pointwiseReference(relu),
  kernel: (shapes) => pointwiseKernel('relu', shapes),
  // The mask reads the output (y > 0 exactly where x > 0), so the pre-activation's only reader is
  // the relu itself and the relu can fuse into the pre-activation's producer.
  grad: ({ outputs: [y], grads: [g], emit }) => [g && emit('relu_backward', [y, g])[0]],
  flops: ([x]) => numel(x),
  pointwise: relu,
});

/**
 * ∂relu: passes the gradient where the mask (the relu's input or output) is positive, PyTorch's
 * choice of 0 at 0. A select is cheap enough to fold into every load of the kernels reading it.
 */
const reluBackward: Pointwise = {
  wgsl: ([m, g], type) => `select(${type}(0.0), ${g}, ${m} > ${type}(0.0))`,
  f64: ([m, g]) => (m > 0 ? g : 0),
  prologue: true,
};

defineOp({
  name: 'relu_backward',
  shape: ([x]) => [x],
  reference: pointwiseReference(reluBackward),
  kernel: (shapes) => pointwiseKernel('relu_backward', shapes),
  flops: ([x]) => numel(x),
  pointwise: reluBackward,
});
