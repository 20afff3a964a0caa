// Shared by every bench suite: repeated timed runs, medians, one JSON object per line.

export interface Timing {
  median_ms: number;
  runs: number;
  min_ms: number;
  max_ms: number;
}

/**
 * Runs `once` `warmup` times untimed (pipeline compilation, first-touch allocation), then `repeats`
 * times timed; `once` must wait for its own GPU work to finish.
 */
export async function measure(once: () => Promise<void>, { warmup = 1, repeats = 5 } = {}): Promise<Timing> {
  return (await measureInterleaved([once], { warmup, repeats }))[0];
}

/**
 * measure() of several alternatives at once: each repeat runs every one in turn, so a change in the
 * machine's load (other processes, thermal) falls on all of them alike and their ratio holds.
 */
export async function measureInterleaved(onces: (() => Promise<void>)[], { warmup = 1, repeats = 5 } = {}): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) for (const once of onces) await once();
  const times: number[][] = onces.map(() => []);
  for (let i = 0; i < repeats; i++) {
    for (const [k, once] of onces.entries()) {
      const start = performance.now();
      await once();
      times[k].push(performance.now() - start);
    }
  }
  return times.map(timing);
}

function timing(times: number[]): Timing {
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { median_ms: round(median), runs: times.length, min_ms: round(times[0]), max_ms: round(times[times.length - 1]) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A bench suite prints its results as JSON lines through `emit`. */
export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions, emit: (row: Record<string, unknown>) => void): Promise<void>;
}

export interface BenchOptions {
  repeats: number;
  /** Smaller shapes, for a quick look (and for the tests of the bench commands themselves). */
  quick: boolean;
  /** `train`: f16 also times the f16 step, next to the f32 one in the same run. */
  precision?: 'f32' | 'f16';
  /** `train`: images per view, images per chunk, and which implementations to time. */
  batch?: number;
  chunk?: number;
  impls?: string[];
}
