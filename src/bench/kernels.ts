// The `kernels` bench suite: GFLOP/s of single ops, forward and backward, on the shapes the stdlib
// encoders and heads use. A case is one row of data; a new op family adds rows to `cases`.
import { getOp, numel, type Attrs, type Shape, type Value } from '../kernels/index.js';
import { recordPlan } from '../gpu/execute.js';
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
];

interface GpuValue extends Value {
  buffer: GPUBuffer;
}

/** One op ready to record again and again on fixed buffers (outputs and scratch made once). */
interface Prepared {
  flops: number;
  outputs: GpuValue[];
  record(): Promise<void>;
}

function prepare(rt: Runtime, op: string, args: GpuValue[], attrs: Attrs, ids: { next: number }): Prepared {
  const def = getOp(op);
  const shapes = args.map((v) => v.shape);
  const outputs = def.shape(shapes, attrs).map((s) => ({ id: ids.next++, shape: s, buffer: rt.buffer(numel(s) * 4) }));
  const plan = def.kernel(shapes, attrs, rt.target);
  const scratch = (plan.scratchBytes ?? []).map((bytes) => rt.buffer(bytes));
  const buffers = { inputs: args.map((v) => v.buffer), outputs: outputs.map((v) => v.buffer), scratch };
  return { flops: def.flops?.(shapes, attrs) ?? 0, outputs, record: () => recordPlan(rt, plan, buffers) };
}

/** The backward pass of one op: its gradient rule, every op it emits prepared on the GPU. */
function backwardOf(rt: Runtime, c: KernelCase, inputs: GpuValue[], outputs: GpuValue[], ids: { next: number }): Prepared[] {
  const def = getOp(c.op);
  if (!def.grad) throw new Error(`op ${c.op} has no gradient rule`);
  const emitted: Prepared[] = [];
  const grads = outputs.map((o, k) => ({ id: ids.next++, shape: o.shape, buffer: randomBuffer(rt, o.shape, 100 + k) }));
  def.grad({
    inputs,
    outputs,
    grads,
    attrs: c.attrs ?? {},
    emit: (op, args, attrs = {}) => {
      const prepared = prepare(rt, op, args as GpuValue[], attrs, ids);
      emitted.push(prepared);
      return prepared.outputs;
    },
  });
  return emitted;
}

/** Median time of recording `ops` in one encoder and waiting for them; GFLOP/s from their FLOPs. */
async function time(rt: Runtime, ops: Prepared[], repeats: number): Promise<{ median_ms: number; gflops: number }> {
  const { median_ms } = await measure(
    async () => {
      for (const op of ops) await op.record();
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
      const inputs = c.shapes.map((shape, i) => ({ id: ids.next++, shape, buffer: randomBuffer(rt, shape, i + 1) }));
      const forward = prepare(rt, c.op, inputs, attrs, ids);
      const backward = backwardOf(rt, c, inputs, forward.outputs, ids);
      for (const [pass, ops] of [['forward', [forward]], ['backward', backward]] as [string, Prepared[]][]) {
        emit({ bench: 'kernels', op: c.op, pass, shape: c.shapes, ...(c.attrs ? { attrs } : {}), ...(await time(rt, ops, repeats)) });
      }
    }
  },
};
