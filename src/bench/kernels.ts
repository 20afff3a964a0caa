// The `kernels` bench suite: GFLOP/s of single ops, forward and backward, on the shapes the stdlib
// encoders and heads use. A case is one row of data; a new op family adds rows to `cases`.
import { compileOp } from '../compiler/compile.js';
import type { KernelGraph } from '../compiler/kernel-graph.js';
import { getOp, numel, type Attrs, type Shape, type Value } from '../kernels/index.js';
import { StepExecutor } from '../gpu/executor.js';
import { runtime, type Runtime } from '../gpu/runtime.js';
import { measure, round, type BenchSuite } from './measure.js';

export interface KernelCase {
  op: string;
  /** Input shapes of the op. */
  shapes: Shape[];
  attrs?: Attrs;
  /** Part of the `--quick` set (small shapes). */
  quick?: boolean;
}

export const cases: KernelCase[] = [
  { op: 'matmul', shapes: [[128, 128], [128, 128]], quick: true },
  { op: 'linear', shapes: [[64, 128], [64, 128], [64]], quick: true },
  { op: 'matmul', shapes: [[1024, 1024], [1024, 1024]] },
  // Projection heads of the stdlib encoders: batch 256, 512-wide features (cat_avg_max of 256
  // channels), hidden 256, out 128.
  { op: 'linear', shapes: [[256, 512], [256, 512]] },
  { op: 'linear', shapes: [[256, 256], [256, 256]] },
  { op: 'linear', shapes: [[256, 256], [128, 256], [128]] },
  // The unfused NT-Xent chain (2N×2N similarities in memory), the baseline of the fused kernel.
  { op: 'ntxent', shapes: [[64, 32]], attrs: { temperature: 0.07 }, quick: true },
  { op: 'ntxent', shapes: [[512, 128]], attrs: { temperature: 0.07 } },
  { op: 'ntxent', shapes: [[2048, 128]], attrs: { temperature: 0.07 } },
  { op: 'conv2d', shapes: [[8, 3, 16, 16], [16, 3, 3, 3], [16]], attrs: { padding: 1 }, quick: true },
  // The small convnet for 28×28 MNIST at batch 256: the 1→32 stem, the 32→64 stride-2
  // downsampling and a 64→64 block convolution at 14×14 (3×3 kernels, padding 1, no bias).
  { op: 'conv2d', shapes: [[256, 1, 28, 28], [32, 1, 3, 3]], attrs: { padding: 1 } },
  { op: 'conv2d', shapes: [[256, 32, 28, 28], [64, 32, 3, 3]], attrs: { stride: 2, padding: 1 } },
  { op: 'conv2d', shapes: [[256, 64, 14, 14], [64, 64, 3, 3]], attrs: { padding: 1 } },
  // The stdlib small_convnet's two wide convolutions as a bench-train step at batch 256 runs them
  // (two views, 512 images): 32→64 at 14×14 and 64→128 at 7×7, each after a 2×2 max pool.
  { op: 'conv2d', shapes: [[512, 32, 14, 14], [64, 32, 3, 3]], attrs: { padding: 1 } },
  { op: 'conv2d', shapes: [[512, 64, 7, 7], [128, 64, 3, 3]], attrs: { padding: 1 } },
];

/** One op compiled as its own kernel graph, over values of the case (inputs, forward outputs, grads). */
interface Planned {
  graph: KernelGraph;
  inputs: Value[];
  outputs: Value[];
  flops: number;
}

function plan(rt: Runtime, op: string, inputs: Value[], attrs: Attrs, ids: { next: number }): Planned {
  const def = getOp(op);
  const shapes = inputs.map((v) => v.shape);
  const outputs = def.shape(shapes, attrs).map((shape) => ({ id: ids.next++, shape }));
  return { graph: compileOp(op, shapes, attrs, rt.target), inputs, outputs, flops: def.flops?.(shapes, attrs) ?? 0 };
}

/**
 * The ops' executors, made once, in order: each reads the buffers of the values it takes (another
 * executor's outputs or the case's random data) and adds its outputs' buffers to `buffers`.
 */
export async function prepare(rt: Runtime, ops: Pick<Planned, 'graph' | 'inputs' | 'outputs'>[], buffers: Map<number, GPUBuffer>): Promise<StepExecutor[]> {
  const executors: StepExecutor[] = [];
  for (const op of ops) {
    const bind = Object.fromEntries(op.inputs.map((v, k) => [`in:${k}`, buffers.get(v.id)!]));
    const exec = await StepExecutor.create(rt, op.graph, { bind });
    op.outputs.forEach((v, k) => buffers.set(v.id, exec.buffer(`out:${k}`)));
    executors.push(exec);
  }
  return executors;
}

/** The backward pass of one op: its gradient rule, every op it emits planned on the way. */
function backwardOf(rt: Runtime, c: KernelCase, inputs: Value[], outputs: Value[], buffers: Map<number, GPUBuffer>, ids: { next: number }): Planned[] {
  const def = getOp(c.op);
  if (!def.grad) throw new Error(`op ${c.op} has no gradient rule`);
  const emitted: Planned[] = [];
  const grads = outputs.map((o, k) => {
    const grad = { id: ids.next++, shape: o.shape };
    buffers.set(grad.id, randomBuffer(rt, o.shape, 100 + k));
    return grad;
  });
  def.grad({
    inputs,
    outputs,
    grads,
    attrs: c.attrs ?? {},
    emit: (op, args, attrs = {}) => {
      const planned = plan(rt, op, args, attrs, ids);
      emitted.push(planned);
      return planned.outputs;
    },
  });
  return emitted;
}

/** Median time of recording the ops in one encoder and waiting for them; GFLOP/s from their FLOPs. */
async function time(rt: Runtime, ops: Planned[], executors: StepExecutor[], repeats: number): Promise<{ median_ms: number; gflops: number }> {
  const { median_ms } = await measure(
    async () => {
      for (const exec of executors) exec.record();
      await rt.sync();
    },
    { repeats },
  );
  const flops = ops.reduce((sum, op) => sum + op.flops, 0);
  return { median_ms, gflops: round(flops / (median_ms * 1e6)) };
}

function randomBuffer(rt: Runtime, shape: Shape, seed: number): GPUBuffer {
  const data = new Float32Array(numel(shape));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return rt.upload(data);
}

export const kernelsSuite: BenchSuite = {
  name: 'kernels',
  description: 'GFLOP/s of matmul, linear, conv2d and the unfused NT-Xent loss, forward and backward',
  async run({ repeats, quick }, emit) {
    const rt = await runtime();
    for (const c of cases.filter((k) => !!k.quick === quick)) {
      const attrs = c.attrs ?? {};
      const ids = { next: 0 };
      const buffers = new Map<number, GPUBuffer>();
      const inputs = c.shapes.map((shape, i) => {
        const v = { id: ids.next++, shape };
        buffers.set(v.id, randomBuffer(rt, shape, i + 1));
        return v;
      });
      const forward = [plan(rt, c.op, inputs, attrs, ids)];
      const backward = backwardOf(rt, c, inputs, forward[0].outputs, buffers, ids);
      const passes: [string, Planned[], StepExecutor[]][] = [
        ['forward', forward, await prepare(rt, forward, buffers)],
        ['backward', backward, await prepare(rt, backward, buffers)],
      ];
      for (const [pass, ops, executors] of passes) {
        emit({ bench: 'kernels', op: c.op, pass, shape: c.shapes, ...(c.attrs ? { attrs } : {}), ...(await time(rt, ops, executors, repeats)) });
      }
      for (const [, , executors] of passes) for (const exec of executors) exec.destroy();
    }
  },
};
