// add: the residual connection's sum of two same-shaped tensors; its gradient goes to both inputs.
// Also the flat grids of kernels with more than 65535 workgroups.
import { pointwiseKernel } from './fused_elementwise.js';
import { ceilDiv, defineOp, numel, pointwiseReference, type Pointwise } from './op.js';

const MAX_GROUPS = 65535;

/**
 * Workgroups for `count` invocations of `wg` each, folded into a second dimension past the
 * 65535-per-dimension limit; the kernel reads its flat index with FLAT_INDEX.
 */
export function flatGroups(count: number, wg: number): [number, number] {
  const groups = ceilDiv(count, wg);
  return groups <= MAX_GROUPS ? [groups, 1] : [MAX_GROUPS, ceilDiv(groups, MAX_GROUPS)];
}

/** WGSL: `main`'s parameters for a flat index over flatGroups' grid, and the index itself. */
export const FLAT_PARAMS = '@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u';
export const flatIndex = (wg: number) => `id.x + id.y * nw.x * ${wg}u`;

const add: Pointwise = { wgsl: ([a, b]) => `(${a} + ${b})`, f64: ([a, b]) => a + b };

defineOp({
  name: 'add',
  shape: ([a, b]) => {
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new Error(`add takes two tensors of one shape, got [${a}] and [${b}]`);
    return [a];
  },
  reference: pointwiseReference(add),
  kernel: (shapes) => pointwiseKernel('add', shapes),
  grad: ({ grads: [g] }) => [g, g],
  flops: ([a]) => numel(a),
  pointwise: add,
});
