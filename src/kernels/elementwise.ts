// add: the residual connection's sum of two same-shaped tensors; its gradient goes to both inputs.
import { ceilDiv, defineOp, numel } from './op.js';

const WG = 256;
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

defineOp({
  name: 'add',
  shape: ([a, b]) => {
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new Error(`add takes two tensors of one shape, got [${a}] and [${b}]`);
    return [a];
  },
  reference: ([a, b]) => [a.map((v, i) => v + b[i])],
  kernel: ([a]) => ({
    programs: [
      {
        label: 'add',
        code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let i = ${flatIndex(WG)};
  if (i < p.n) { y[i] = a[i] + b[i]; }
}`,
        groups: flatGroups(numel(a), WG),
        params: { values: [numel(a)] },
        bindings: ['in:0', 'in:1', 'out:0'],
      },
    ],
  }),
  grad: ({ grads: [g] }) => [g, g],
  flops: ([a]) => numel(a),
});
