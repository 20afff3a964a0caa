// One kernel for a chain of pointwise ops (residual add → relu, relu_backward → gradient add): the
// chain becomes an expression evaluated per element, so intermediates never reach memory. Each op
// in the chain keeps its own row's semantics: the expression is built from the ops' declarations.
import { ceilDiv, defineOp, getOp, numel, type Attrs, type KernelPlan, type Pointwise, type Shape } from './op.js';

/** A leaf is the fused node's K-th input; an inner node applies a pointwise op to its args. */
export type Expr = { input: number } | { op: string; args: Expr[] };

export interface FusedAttrs extends Attrs {
  expr: Expr;
  shape: number[];
}

const WG = 256;

function pointwise(op: string): Pointwise {
  const p = getOp(op).pointwise;
  if (!p) throw new Error(`op ${op} declares no pointwise expression and cannot be fused elementwise`);
  return p;
}

function render(e: Expr): string {
  if ('input' in e) return `x${e.input}[i]`;
  return pointwise(e.op).wgsl(e.args.map(render), 'f32');
}

function evalAt(e: Expr, inputs: Float64Array[], i: number): number {
  if ('input' in e) return inputs[e.input][i];
  return pointwise(e.op).f64(e.args.map((a) => evalAt(a, inputs, i)));
}

export function describe(e: Expr): string {
  return 'input' in e ? `x${e.input}` : `${e.op}(${e.args.map(describe).join(', ')})`;
}

function kernel(label: string, expr: Expr, inputs: number, n: number): KernelPlan {
  const decls = Array.from({ length: inputs }, (_, k) => `@group(0) @binding(${k + 1}) var<storage, read> x${k}: array<f32>;`);
  const code = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
${decls.join('\n')}
@group(0) @binding(${inputs + 1}) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  for (var i = id.x; i < p.n; i += nw.x * ${WG}u) { y[i] = ${render(expr)}; }
}`;
  return {
    programs: [
      {
        label,
        code,
        // A grid-stride loop keeps the dispatch within the per-dimension workgroup limit.
        groups: [Math.min(ceilDiv(n, WG), 65535)],
        params: { values: [n] },
        bindings: [...Array.from({ length: inputs }, (_, k) => `in:${k}`), 'out:0'],
      },
    ],
  };
}

/** The kernel of a pointwise op run alone: its own expression over its inputs. */
export function pointwiseKernel(op: string, shapes: Shape[]): KernelPlan {
  return kernel(op, { op, args: shapes.map((_, k) => ({ input: k })) }, shapes.length, numel(shapes[0]));
}

defineOp<FusedAttrs>({
  name: 'fused_elementwise',
  shape: (inputs, { shape }) => {
    for (const s of inputs) if (numel(s) !== numel(shape)) throw new Error(`fused elementwise input [${s}] differs from [${shape}]`);
    return [shape];
  },
  reference: (inputs, _shapes, { expr, shape }) => [Float64Array.from({ length: numel(shape) }, (_, i) => evalAt(expr, inputs, i))],
  kernel: (shapes, { expr, shape }) => kernel(`fused ${describe(expr)}`.replace(/[^\w ,()]/g, ''), expr, shapes.length, numel(shape)),
  flops: (_shapes, { expr, shape }) => numel(shape) * countOps(expr),
});

function countOps(e: Expr): number {
  return 'input' in e ? 0 : 1 + e.args.reduce((a, x) => a + countOps(x), 0);
}
