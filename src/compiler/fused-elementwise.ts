// One kernel for a chain of elementwise ops (residual add → relu, relu_backward → gradient add):
// the chain becomes an expression evaluated per element, so intermediates never reach memory.
import { ceilDiv, defineOp, numel, type Attrs } from '../kernels/op.js';

/** A leaf is the fused node's K-th input; an inner node applies an elementwise op to its args. */
export type Expr = { input: number } | { op: string; args: Expr[] };

interface Elementwise {
  arity: number;
  wgsl(args: string[]): string;
  f64(args: number[]): number;
}

/** The ops a chain may hold; each keeps its own op's exact semantics (relu′ is 0 at 0 as PyTorch). */
export const ELEMENTWISE: Record<string, Elementwise> = {
  relu: { arity: 1, wgsl: ([x]) => `max(${x}, 0.0)`, f64: ([x]) => (x > 0 ? x : 0) },
  add: { arity: 2, wgsl: ([a, b]) => `(${a} + ${b})`, f64: ([a, b]) => a + b },
  relu_backward: { arity: 2, wgsl: ([x, g]) => `select(0.0, ${g}, ${x} > 0.0)`, f64: ([x, g]) => (x > 0 ? g : 0) },
};

export interface FusedAttrs extends Attrs {
  expr: Expr;
  shape: number[];
}

const WG = 256;

function render(e: Expr): string {
  if ('input' in e) return `x${e.input}[i]`;
  return ELEMENTWISE[e.op].wgsl(e.args.map(render));
}

function evalAt(e: Expr, inputs: Float64Array[], i: number): number {
  if ('input' in e) return inputs[e.input][i];
  return ELEMENTWISE[e.op].f64(e.args.map((a) => evalAt(a, inputs, i)));
}

export function describe(e: Expr): string {
  return 'input' in e ? `x${e.input}` : `${e.op}(${e.args.map(describe).join(', ')})`;
}

defineOp<FusedAttrs>({
  name: 'fused_elementwise',
  shape: (inputs, { shape }) => {
    for (const s of inputs) if (numel(s) !== numel(shape)) throw new Error(`fused elementwise input [${s}] differs from [${shape}]`);
    return [shape];
  },
  reference: (inputs, _shapes, { expr, shape }) => [Float64Array.from({ length: numel(shape) }, (_, i) => evalAt(expr, inputs, i))],
  kernel: (shapes, { expr, shape }) => {
    const n = numel(shape);
    const decls = shapes.map((_, k) => `@group(0) @binding(${k + 1}) var<storage, read> x${k}: array<f32>;`);
    const code = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
${decls.join('\n')}
@group(0) @binding(${shapes.length + 1}) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  for (var i = id.x; i < p.n; i += nw.x * ${WG}u) { y[i] = ${render(expr)}; }
}`;
    return {
      programs: [
        {
          label: `fused ${describe(expr)}`.replace(/[^\w ,()]/g, ''),
          code,
          // A grid-stride loop keeps the dispatch within the per-dimension workgroup limit.
          groups: [Math.min(ceilDiv(n, WG), 65535)],
          params: { values: [n] },
          bindings: [...shapes.map((_, k) => `in:${k}`), 'out:0'],
        },
      ],
    };
  },
  flops: (_shapes, { expr, shape }) => numel(shape) * countOps(expr),
});

function countOps(e: Expr): number {
  return 'input' in e ? 0 : 1 + e.args.reduce((a, x) => a + countOps(x), 0);
}
