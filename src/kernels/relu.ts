// relu and its backward: the smallest op, and the pattern every op file follows.
import { ceilDiv, defineOp, numel } from './op.js';

const WG = 256;

const unary = (body: string) => /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${body}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { apply(id.x); }
}`;

defineOp({
  name: 'relu',
  shape: ([x]) => [x],
  reference: ([x]) => [x.map((v) => (v > 0 ? v : 0))],
  kernel: ([x]) => ({
    programs: [
      {
        label: 'relu',
        code: unary(`@group(0) @binding(2) var<storage, read_write> y: array<f32>;
fn apply(i: u32) { y[i] = max(x[i], 0.0); }`),
        groups: [ceilDiv(numel(x), WG)],
        params: { values: [numel(x)] },
        bindings: ['in:0', 'out:0'],
      },
    ],
  }),
  grad: ({ inputs: [x], grads: [g], emit }) => [g && emit('relu_backward', [x, g])[0]],
  flops: ([x]) => numel(x),
});

/** ∂relu: passes the gradient where the input was positive (PyTorch's choice of 0 at 0). */
defineOp({
  name: 'relu_backward',
  shape: ([x]) => [x],
  reference: ([x, g]) => [g.map((v, i) => (x[i] > 0 ? v : 0))],
  kernel: ([x]) => ({
    programs: [
      {
        label: 'relu_backward',
        code: unary(`@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
fn apply(i: u32) { dx[i] = select(0.0, g[i], x[i] > 0.0); }`),
        groups: [ceilDiv(numel(x), WG)],
        params: { values: [numel(x)] },
        bindings: ['in:0', 'in:1', 'out:0'],
      },
    ],
  }),
  flops: ([x]) => numel(x),
});
