// `bench infonce`: NT-Xent forward + backward at D = 128 — the fused kernels, the project's unfused
// `ntxent` op (2N×2N in memory) and the same loss in TensorFlow.js on webgpu, one run, same adapter.
import { compileOp } from '../compiler/compile.js';
import type { KernelGraph } from '../compiler/kernel-graph.js';
import { getOp, type Attrs, type Shape, type Value } from '../kernels/index.js';
import type { StepExecutor } from '../gpu/executor.js';
import { runtime, type Runtime } from '../gpu/runtime.js';
import { prepare } from './kernels.js';
import { measure, round, type BenchSuite } from './measure.js';
import { loadTf } from './tfjs.js';

const D = 128;
const TEMPERATURE = 0.07;

interface Result {
  median_ms: number;
  /** Median CPU time of this process per run: lavapipe and TF.js work in its threads, so this is
   * what the run cost when the machine is shared and wall time is not. */
  cpu_ms: number;
  peak_bytes: number;
}

/** measure() plus the median CPU time of the timed runs (the first, warm-up run is dropped). */
async function timed(once: () => Promise<void>, repeats: number, peak_bytes: number): Promise<Result> {
  const cpu: number[] = [];
  const t = await measure(
    async () => {
      const start = process.cpuUsage();
      await once();
      const used = process.cpuUsage(start);
      cpu.push((used.user + used.system) / 1000);
    },
    { warmup: 1, repeats },
  );
  const runs = cpu.slice(1).sort((a, b) => a - b);
  const mid = runs.length >> 1;
  const cpu_ms = round(runs.length % 2 ? runs[mid] : (runs[mid - 1] + runs[mid]) / 2);
  return { median_ms: t.median_ms, cpu_ms, peak_bytes };
}

/** Deterministic inputs in [-1, 1) (an LCG: the bench needs no statistics, only the same data each run). */
function embeddings(count: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * An op's forward and its gradient rule's ops, each compiled as its own kernel graph and run on
 * the buffers of the values it reads; `bytes` counts every buffer (no reuse between ops, so it
 * bounds the step's peak from above).
 */
async function planStep(rt: Runtime, op: string, zBuf: GPUBuffer, shape: Shape, attrs: Attrs): Promise<{ steps: StepExecutor[]; bytes: number }> {
  const limit = rt.target.maxStorageBufferBindingSize;
  let bytes = zBuf.size;
  const planned: { name: string; graph: KernelGraph; inputs: Value[]; outputs: Value[] }[] = [];
  let next = 0;
  const run = (name: string, inputs: Value[], a: Attrs) => {
    const shapes = inputs.map((v) => v.shape);
    const graph = compileOp(name, shapes, a, rt.target);
    const results = new Set(Object.values(graph.outputs).map((o) => o.buffer));
    for (const b of graph.buffers) {
      if (b.kind !== 'temp') continue;
      const what = results.has(b.id) ? 'output' : 'scratch';
      if (b.bytes > limit) throw new Error(`${name} ${what} needs a buffer of ${b.bytes} bytes > the adapter's ${limit}-byte binding limit`);
      bytes += b.bytes;
    }
    const outputs = getOp(name).shape(shapes, a).map((s) => ({ id: next++, shape: s }));
    planned.push({ name, graph, inputs, outputs });
    return outputs;
  };
  const values = new Map<number, GPUBuffer>();
  const z = { id: next++, shape };
  values.set(z.id, zBuf);
  const outs = run(op, [z], attrs);
  const seed = { id: next++, shape: [1] };
  values.set(seed.id, rt.upload(Float32Array.of(1), 'dL/dloss'));
  bytes += 4;
  const grads = outs.map((_, k) => (k === 0 ? seed : undefined));
  getOp(op).grad!({ inputs: [z], outputs: outs, grads, attrs, emit: run });
  return { steps: await prepare(rt, planned, values), bytes };
}

async function gpuImpl(op: string, n2: number, repeats: number): Promise<Result> {
  const rt = await runtime();
  const zBuf = rt.upload(embeddings(n2 * D), 'z');
  const { steps, bytes } = await planStep(rt, op, zBuf, [n2, D], { temperature: TEMPERATURE });
  const once = async () => {
    for (const s of steps) s.record();
    await rt.sync();
  };
  const result = await timed(once, repeats, bytes);
  for (const s of steps) s.destroy();
  return result;
}

async function tfImpl(n2: number, repeats: number): Promise<Result> {
  const rt = await runtime();
  const matrix = n2 * n2 * 4;
  if (matrix > rt.target.maxStorageBufferBindingSize) {
    throw new Error(`the 2N×2N logits need ${matrix} bytes > the adapter's ${rt.target.maxStorageBufferBindingSize}-byte binding limit`);
  }
  const tf = await loadTf();
  const n = n2 / 2;
  const z = tf.tensor2d(embeddings(n2 * D), [n2, D]);
  const mask = tf.mul(tf.eye(n2), -1e9);
  const ntxent = (x: import('@tensorflow/tfjs-core').Tensor) => {
    const u = tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
    const logits = tf.add(tf.div(tf.matMul(u, u, false, true), TEMPERATURE), mask);
    const keys = tf.concat([tf.slice(u, [n, 0], [n, D]), tf.slice(u, [0, 0], [n, D])]);
    const positive = tf.div(tf.sum(tf.mul(u, keys), 1), TEMPERATURE);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), positive)) as import('@tensorflow/tfjs-core').Scalar;
  };
  const step = tf.valueAndGrad(ntxent);
  const once = async () => {
    const { value, grad } = step(z);
    await grad.data();
    await value.data();
    value.dispose();
    grad.dispose();
  };
  const profile = await tf.profile(once);
  const result = await timed(once, repeats, profile.peakBytes);
  z.dispose();
  mask.dispose();
  return result;
}

export const infonceSuite: BenchSuite = {
  name: 'infonce',
  description: 'NT-Xent forward+backward, D=128: fused kernels vs the unfused ntxent op vs TensorFlow.js webgpu',
  async run({ repeats, quick }, emit) {
    const sizes = quick ? [256] : [512, 2048, 8192];
    const impls: [string, (n2: number) => Promise<Result>][] = [
      ['fused', (n2) => gpuImpl('infonce', n2, repeats)],
      ['unfused', (n2) => gpuImpl('ntxent', n2, repeats)],
      ['tfjs-webgpu', (n2) => tfImpl(n2, repeats)],
    ];
    for (const n2 of sizes) {
      for (const [impl, run] of impls) {
        const row = { bench: 'infonce', impl, n2, d: D };
        try {
          emit({ ...row, ...(await run(n2)) });
        } catch (err) {
          emit({ ...row, error: (err as Error).message.split('\n')[0] });
        }
      }
    }
  },
};
