// One-line op tests: `checkOp` runs an op's WGSL against its float64 reference, `checkGrad` checks
// its gradient rule (evaluated through the references of the ops it emits) against central
// finite differences of the forward reference.
import * as assert from 'uvu/assert';
import { getOp, numel, type Attrs, type Shape, type StepScalars, type Target, type Value } from '../../src/kernels/index.js';
import { runtime } from '../../src/gpu/runtime.js';
import { compileOp } from '../../src/compiler/compile.js';
import { fuse } from '../../src/compiler/fuse.js';
import { lower } from '../../src/compiler/lower.js';
import type { Graph } from '../../src/ir/graph.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { randoms, relError } from './numeric.js';

export interface CheckOptions {
  tol?: number;
  seed?: number;
  /** Explicit inputs (float64); random in [-1, 1) where absent. */
  inputs?: (Float64Array | undefined)[];
  target?: Partial<Target>;
  /** Per-step scalars for ops that read them (optimizer updates). */
  step?: StepScalars;
}

export function randomInputs(shapes: Shape[], seed: number, given: (Float64Array | undefined)[] = []): Float64Array[] {
  return shapes.map((s, i) => given[i] ?? randoms(numel(s), seed + 7919 * i));
}

export async function runOnGpu(name: string, inputs: Float64Array[], shapes: Shape[], attrs: Attrs, target: Partial<Target> = {}, step?: StepScalars): Promise<Float32Array[]> {
  const rt = await runtime();
  const def = getOp(name);
  const outShapes = def.shape(shapes, attrs);
  const graph = compileOp(name, shapes, attrs, { ...rt.target, ...target });
  const initial: Record<string, ArrayLike<number>> = {};
  inputs.forEach((x, k) => (initial[`in:${k}`] = Float32Array.from(x)));
  // Outputs start as NaN so an element the kernel never writes cannot pass.
  outShapes.forEach((s, k) => {
    if (def.inplace?.[k] === undefined) initial[`out:${k}`] = new Float32Array(numel(s)).fill(NaN);
  });
  const exec = await StepExecutor.create(rt, graph, { initial });
  if (step) exec.setStep(step);
  exec.record();
  const out: Float32Array[] = [];
  for (let k = 0; k < outShapes.length; k++) out.push(await exec.read(`out:${k}`));
  exec.destroy();
  return out;
}

/**
 * The graph fused for the adapter and run on the GPU, inputs fed by name; named outputs start as
 * NaN. Returns each kernel's label (what fused into what) and every named output.
 */
/** The graph fused and lowered for the adapter (with `target` overriding its traits), run once. */
export async function runFused(g: Graph, feeds: Record<string, Float64Array>, target: Partial<Target> = {}): Promise<{ labels: string[]; outputs: Record<string, Float32Array> }> {
  const rt = await runtime();
  const t = { ...rt.target, ...target };
  const kernels = lower(fuse(g, t), t);
  const initial: Record<string, ArrayLike<number>> = {};
  for (const [name, x] of Object.entries(feeds)) initial[name] = Float32Array.from(x);
  // An in-place output lives in its input's named buffer, which the feeds fill; another may share
  // a larger temporary buffer, filled whole.
  for (const [name, out] of Object.entries(kernels.outputs)) {
    const buffer = kernels.buffers[out.buffer];
    if (buffer.name === undefined) initial[name] = new Float32Array(Math.max(numel(out.shape), buffer.bytes / 4)).fill(NaN);
  }
  const exec = await StepExecutor.create(rt, kernels, { initial });
  exec.record();
  const outputs: Record<string, Float32Array> = {};
  for (const name of Object.keys(kernels.outputs)) outputs[name] = await exec.read(name);
  exec.destroy();
  return { labels: kernels.kernels.map((k) => k.label), outputs };
}

/** GPU result against the float64 reference, every output; returns the worst relative error. */
export async function checkOp(name: string, shapes: Shape[], attrs: Attrs = {}, opts: CheckOptions = {}): Promise<number> {
  const { tol = 1e-5, seed = 1 } = opts;
  const def = getOp(name);
  const inputs = randomInputs(shapes, seed, opts.inputs);
  const want = def.reference(inputs, shapes, attrs, opts.step);
  const got = await runOnGpu(name, inputs, shapes, attrs, opts.target, opts.step);
  let worst = 0;
  want.forEach((w, k) => {
    const err = relError(got[k], w);
    worst = Math.max(worst, err);
    assert.ok(err <= tol, `${name} ${JSON.stringify(shapes)} output ${k}: relative error ${err.toExponential(2)} > ${tol}`);
  });
  return worst;
}

interface CpuValue extends Value {
  data: Float64Array;
}

/** Evaluates a gradient rule on the CPU: every emitted op runs through its reference at once. */
export function cpuGrad(name: string, inputs: Float64Array[], shapes: Shape[], attrs: Attrs, outGrads: (Float64Array | undefined)[]): (Float64Array | undefined)[] {
  const def = getOp(name);
  let next = 0;
  const value = (data: Float64Array, shape: Shape): CpuValue => ({ id: next++, shape, data });
  const ins = inputs.map((x, i) => value(x, shapes[i]));
  const outShapes = def.shape(shapes, attrs);
  const outs = def.reference(inputs, shapes, attrs).map((y, k) => value(y, outShapes[k]));
  const grads = outGrads.map((g, k) => (g ? value(g, outShapes[k]) : undefined));
  const emit = (op: string, args: Value[], a: Attrs = {}): Value[] => {
    const d = getOp(op);
    const argShapes = args.map((v) => v.shape);
    const results = d.reference(args.map((v) => (v as CpuValue).data), argShapes, a);
    const resultShapes = d.shape(argShapes, a);
    return results.map((r, k) => value(r, resultShapes[k]));
  };
  if (!def.grad) throw new Error(`op ${name} has no gradient rule`);
  return def.grad({ inputs: ins, outputs: outs, grads, attrs, emit }).map((g) => (g ? (g as CpuValue).data : undefined));
}

/**
 * L = Σ_k ⟨w_k, out_k⟩ with random w; the rule's ∂L/∂in against central differences.
 * `outputs` limits which outputs carry a gradient (all by default).
 */
export function checkGrad(name: string, shapes: Shape[], attrs: Attrs = {}, opts: CheckOptions & { eps?: number; outputs?: number[] } = {}): number {
  const { tol = 1e-6, seed = 3, eps = 1e-5 } = opts;
  const def = getOp(name);
  const inputs = randomInputs(shapes, seed, opts.inputs);
  const outShapes = def.shape(shapes, attrs);
  const weights = outShapes.map((s, k) => (!opts.outputs || opts.outputs.includes(k) ? randoms(numel(s), seed + 101 * k + 5) : undefined));
  const loss = (xs: Float64Array[]) =>
    def.reference(xs, shapes, attrs).reduce((acc, y, k) => {
      const w = weights[k];
      if (!w) return acc;
      for (let j = 0; j < y.length; j++) acc += y[j] * w[j];
      return acc;
    }, 0);
  const analytic = cpuGrad(name, inputs, shapes, attrs, weights);
  let worst = 0;
  analytic.forEach((g, i) => {
    if (!g) return;
    const x = inputs[i];
    const numeric = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const keep = x[j];
      x[j] = keep + eps;
      const up = loss(inputs);
      x[j] = keep - eps;
      const down = loss(inputs);
      x[j] = keep;
      numeric[j] = (up - down) / (2 * eps);
    }
    const err = relError(g, numeric);
    worst = Math.max(worst, err);
    assert.ok(err <= tol, `${name} ∂/∂input ${i} ${JSON.stringify(shapes)}: relative error ${err.toExponential(2)} > ${tol}`);
  });
  return worst;
}
