// `profile SPEC`: every kernel of the spec's compiled training step timed on this adapter, beside
// the whole step timed the ordinary way (one submission, the loss read back) and the adapter's
// measured roofs, so each kernel shows how far it is from what the device can do.
import { compileOp, compilePhase } from '../compiler/compile.js';
import { StepExecutor } from '../gpu/executor.js';
import { median, timeKernels, type TimingMethod } from '../gpu/profile.js';
import type { Runtime } from '../gpu/runtime.js';
import { optimizerFor, stepScalars } from '../ir/optimizer.js';
import { pretrainPhase } from '../ir/phases.js';
import { tensorBytes } from '../kernels/index.js';
import type { ResolvedSpec } from '../spec/index.js';
import { Rng } from '../data/rng.js';
import { round } from './measure.js';

export interface KernelRow {
  kernel: string;
  stage: string;
  ms: number;
  flops: number;
  bytes: number;
  gflops: number;
  gbps: number;
  /** The larger of GFLOP/s against the FMA roof and GB/s against the copy roof, in percent. */
  roof_pct: number;
}

export interface Profile {
  adapter: string;
  batch: number;
  method: TimingMethod;
  roof: { gflops: number; gbps: number };
  kernels: KernelRow[];
  step_ms: number;
  kernel_sum_ms: number;
  precision: 'f32' | 'f16';
  /** The compiled step's planned peak memory (the buffer plan's bytes). */
  planned_bytes: number;
  /** Measured: the most bytes live at once in the runtime's buffers while the step ran, over what was live before it. */
  measured_peak_bytes: number;
}

/** Every input of the graph filled with seeded noise (pixels, or floats in [0, 1)): the profile times the work, not the data. */
function fillInputs(ex: StepExecutor, seed: number): void {
  const rng = new Rng(seed);
  for (const b of ex.graph.buffers) {
    if (b.kind !== 'input' || !b.name) continue;
    if (b.dtype === 'u8') ex.write(b.name, Uint8Array.from({ length: b.bytes }, () => Math.floor(rng.next() * 256)));
    else ex.write(b.name, Float32Array.from({ length: b.bytes / 4 }, () => rng.next()));
  }
}

async function timeOp(rt: Runtime, op: string, shape: number[], attrs: Record<string, unknown>, repeats: number, fill: Float32Array): Promise<number> {
  const ex = await StepExecutor.create(rt, compileOp(op, [shape], attrs, rt.target));
  try {
    ex.write('in:0', fill);
    const times: number[] = [];
    for (let r = 0; r <= repeats; r++) {
      const start = performance.now();
      ex.record();
      await rt.sync();
      if (r > 0) times.push(performance.now() - start);
    }
    return median(times);
  } finally {
    ex.destroy();
  }
}

/** An FMA chain over many invocations (0.27 GFLOP) and a 16 MiB copy: the adapter's compute and memory roofs. */
export async function measureRoof(rt: Runtime, repeats: number): Promise<{ gflops: number; gbps: number }> {
  const threads = 1 << 14;
  const steps = 256;
  const fmaMs = await timeOp(rt, 'fma_probe', [2], { threads, steps }, repeats, Float32Array.of(0.999, 0.001));
  const n = 1 << 22;
  const copyMs = await timeOp(rt, 'copy_probe', [n], {}, repeats, new Float32Array(n));
  return { gflops: round((threads * steps * 64) / fmaMs / 1e6, 2), gbps: round((2 * tensorBytes([n])) / copyMs / 1e6, 2) };
}

export async function profileStep(rt: Runtime, spec: ResolvedSpec, batch: number, repeats: number): Promise<Profile> {
  const optimizer = optimizerFor(spec.optimizer, batch);
  // The spec's own precision (`--set train.precision=f16` profiles the f16 step).
  const phase = { ...pretrainPhase({ ...spec, optimizer }, batch), precision: spec.train.precision ?? 'f32' };
  const { kernels } = compilePhase(phase, rt.target);
  rt.resetPeak();
  const floor = rt.memory.liveBytes;
  const ex = await StepExecutor.create(rt, kernels, { seed: spec.train.seed });
  try {
    fillInputs(ex, spec.train.seed);
    ex.setStep(stepScalars(optimizer, 1, optimizer.lr, spec.train.seed));
    // The first step compiles every pipeline on lavapipe; it is not timed.
    ex.record();
    await ex.read('loss');
    // Before the per-kernel timing, whose query sets are the profiler's, not the step's.
    const measuredPeak = rt.memory.peakBytes - floor;
    // Each timed step is followed at once by one timed run of every kernel, so the two see the same
    // load: on a shared machine, steps timed first and kernels after drifted 0.7–1.4× apart.
    const steps: number[] = [];
    const samples: number[][] = kernels.kernels.map(() => []);
    let method: TimingMethod = 'timestamp-query';
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      ex.record();
      await ex.read('loss');
      steps.push(performance.now() - start);
      const one = await timeKernels(rt, ex, 1);
      method = one.method;
      one.ms.forEach((ms, i) => samples[i].push(ms));
    }
    const times = { method, ms: samples.map(median) };
    const roof = await measureRoof(rt, repeats);
    const rows = kernels.kernels.map((k, i): KernelRow => {
      const ms = times.ms[i];
      const gflops = ms > 0 ? k.flops / ms / 1e6 : 0;
      const gbps = ms > 0 ? k.bytes / ms / 1e6 : 0;
      const roofPct = 100 * Math.max(gflops / roof.gflops, gbps / roof.gbps);
      return { kernel: k.label, stage: k.stage, ms: round(ms, 4), flops: k.flops, bytes: k.bytes, gflops: round(gflops, 2), gbps: round(gbps, 2), roof_pct: round(roofPct, 1) };
    });
    const a = rt.gpu.adapter;
    return {
      adapter: `${a.description || a.device} (${a.isSoftware ? 'software' : 'hardware'})`,
      batch,
      method: times.method,
      roof,
      kernels: rows,
      step_ms: round(median(steps), 3),
      kernel_sum_ms: round(times.ms.reduce((s, x) => s + x, 0), 3),
      precision: phase.precision,
      planned_bytes: kernels.memory.plannedBytes,
      measured_peak_bytes: measuredPeak,
    };
  } finally {
    ex.destroy();
  }
}
