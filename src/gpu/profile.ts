// Per-kernel times of a compiled graph. With the adapter's timestamp-query feature each kernel runs
// in a compute pass of its own whose start and end the device stamps, and all of a step's kernels
// go in one submission, as in training. Without it each kernel is submitted alone and timed from the
// host, less the cost of an empty submission: coarser, and said so in the result.
import type { StepExecutor } from './executor.js';
import type { Runtime } from './runtime.js';

export type TimingMethod = 'timestamp-query' | 'per-dispatch';

export interface KernelTimes {
  method: TimingMethod;
  /** Median milliseconds of each kernel, in kernel order. */
  ms: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function timeKernels(rt: Runtime, ex: StepExecutor, repeats: number): Promise<KernelTimes> {
  const count = ex.graph.kernels.length;
  const samples: number[][] = Array.from({ length: count }, () => []);
  if (rt.gpu.adapter.features.includes('timestamp-query')) {
    const querySet = rt.device.createQuerySet({ type: 'timestamp', count: 2 * count });
    try {
      for (let r = 0; r < repeats; r++) {
        for (let k = 0; k < count; k++) rt.timed(querySet, k, () => ex.recordKernel(k));
        const stamps = await rt.readTimestamps(querySet, 2 * count);
        for (let k = 0; k < count; k++) samples[k].push(Number(stamps[2 * k + 1] - stamps[2 * k]) / 1e6);
      }
    } finally {
      querySet.destroy();
    }
    return { method: 'timestamp-query', ms: samples.map(median) };
  }
  const empty: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await rt.sync();
    empty.push(performance.now() - start);
  }
  const overhead = median(empty);
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < count; k++) {
      const start = performance.now();
      ex.recordKernel(k);
      await rt.sync();
      samples[k].push(Math.max(0, performance.now() - start - overhead));
    }
  }
  return { method: 'per-dispatch', ms: samples.map(median) };
}
