// `bench collective`: time and bytes of the all-reduce (parameter gradients) and the all-gather
// (embeddings for global negatives) across 2 processes on this host, at a range of sizes and at the
// sizes of a real training step (examples/mnist.simclr), and that step's share of time spent in its
// collectives. Run plainly, the suite starts itself under mpirun and passes on rank 0's rows; under
// mpirun, every rank measures in lockstep.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchedUnderMpi, openCollectives, type Collectives } from '../dist/collectives.js';
import { localLaunch } from '../dist/launch.js';
import { ADDON_PATH, MpiUnavailableError } from '../dist/mpi.js';
import { compile } from '../compiler/compile.js';
import { runtime } from '../gpu/runtime.js';
import { stepScalars } from '../ir/optimizer.js';
import { loadSpecFile } from '../spec/index.js';
import { dataParallelEngine } from '../train/data-parallel.js';
import { lrAt } from '../train/schedule.js';
import { trainingPlan } from '../train/trainer.js';
import { measure, round, type BenchOptions, type BenchSuite } from './measure.js';

const CLI = fileURLToPath(new URL('../../../bin/simclr-compile.js', import.meta.url));
const STEP_SPEC = fileURLToPath(new URL('../../../examples/mnist.simclr', import.meta.url));
const PROCESSES = 2;
const KIB = 1024;
const SIZES = [64 * KIB, 256 * KIB, 1024 * KIB, 4096 * KIB, 16384 * KIB];
const QUICK_SIZES = [64 * KIB, 1024 * KIB];
/** Small tensors are timed over several calls per sample, so a sample is not timer noise. */
const BYTES_PER_SAMPLE = 4096 * KIB;

export type CollectiveRow = {
  bench: 'collective';
  op: 'all_reduce' | 'all_gather';
  processes: number;
  /** The tensor every process holds afterwards: the summed gradient, the gathered embeddings. */
  bytes: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  /** bytes / time. */
  algbw_gb_s: number;
  /** algbw times the share each link carries: 2(p−1)/p for all-reduce, (p−1)/p for all-gather. */
  busbw_gb_s: number;
  /** Set where the size is a training step's: 'step gradients' (all-reduced) or 'step embeddings' (gathered). */
  tensor?: string;
};

/** A data-parallel training step of STEP_SPEC on `processes` processes: where its time goes. */
export type StepRow = {
  bench: 'collective';
  op: 'step';
  processes: number;
  spec: string;
  /** The global batch. */
  batch: number;
  steps: number;
  step_ms: number;
  all_gather_ms: number;
  reduce_scatter_ms: number;
  all_reduce_ms: number;
  /**
   * Time in the three collectives over the step's time (host readbacks and writes around them not
   * counted). It includes each collective's wait for the slowest process: the 'step gradients' and
   * 'step embeddings' rows time the same transfers with the processes already together.
   */
  communication_share: number;
  gradient_bytes: number;
  embedding_bytes: number;
};

async function measureRanks(c: Collectives, options: BenchOptions, sizes: { bytes: number; tensor?: string; op?: CollectiveRow['op'] }[], emit: (row: CollectiveRow) => void): Promise<void> {
  const p = c.size;
  for (const { bytes, tensor, op: only } of sizes) {
    const floats = bytes / 4;
    const calls = Math.max(1, Math.floor(BYTES_PER_SAMPLE / bytes));
    const summed = new Float32Array(floats).fill(c.rank + 1);
    const local = new Float32Array(Math.floor(floats / p)).fill(c.rank);
    const gathered = new Float32Array(floats);
    const ops: [CollectiveRow['op'], () => void, number][] = [
      ['all_reduce', () => c.allReduceSum(summed), (2 * (p - 1)) / p],
      ['all_gather', () => void c.allGather(local, gathered), (p - 1) / p],
    ];
    for (const [op, once, linkShare] of ops) {
      if (only && op !== only) continue;
      const t = await measure(
        async () => {
          // Every sample starts with the processes together, so it times the collective, not a wait.
          c.barrier();
          for (let k = 0; k < calls; k++) once();
        },
        { repeats: options.repeats },
      );
      const perCall = (ms: number) => round(ms / calls, 4);
      const median = t.median_ms / calls;
      const algbw = bytes / (median * 1e6);
      emit({
        bench: 'collective',
        op,
        processes: p,
        bytes,
        median_ms: perCall(t.median_ms),
        min_ms: perCall(t.min_ms),
        max_ms: perCall(t.max_ms),
        algbw_gb_s: round(algbw),
        busbw_gb_s: round(algbw * linkShare),
        ...(tensor ? { tensor } : {}),
      });
    }
  }
}

export const collectiveSuite: BenchSuite = {
  name: 'collective',
  description: `all-reduce and all-gather over MPI, ${PROCESSES} processes on this host`,
  async run(options, emit) {
    if (launchedUnderMpi()) {
      const c = await openCollectives();
      const lead = (row: CollectiveRow | StepRow) => c.rank === 0 && emit(row);
      await measureRanks(c, options, (options.quick ? QUICK_SIZES : SIZES).map((bytes) => ({ bytes })), lead);
      const step = await measureStep(c, options, lead);
      // The collectives alone at the step's own sizes.
      const sizes = [
        { bytes: step.gradient_bytes, tensor: 'step gradients', op: 'all_reduce' as const },
        { bytes: step.embedding_bytes, tensor: 'step embeddings', op: 'all_gather' as const },
      ];
      await measureRanks(c, options, sizes, lead);
      c.finalize();
      return;
    }
    if (!existsSync(ADDON_PATH)) throw new MpiUnavailableError(`the MPI addon is not built (${ADDON_PATH} is missing)`);
    const argv = [process.execPath, CLI, 'bench', 'collective', '--json', '--repeats', String(options.repeats), ...(options.quick ? ['--quick'] : [])];
    const launch = localLaunch(PROCESSES, argv);
    const run = spawnSync(launch.file, launch.args, { env: launch.env, encoding: 'utf8', maxBuffer: 16 << 20 });
    if (run.status !== 0) throw new Error(`bench collective: mpirun exited ${run.status ?? run.signal}\n${run.stdout}${run.stderr}`);
    for (const line of run.stdout.split('\n')) if (line.startsWith('{')) emit(JSON.parse(line));
  },
};

/**
 * Steps of the example spec on every process (one warm-up step compiles the pipelines), timed end to
 * end, with the time each collective took inside them. BatchNorm normalises per process here: sync
 * BatchNorm is not supported yet, and it does not change what is communicated in this design.
 */
async function measureStep(c: Collectives, options: BenchOptions, emit: (row: StepRow) => void): Promise<StepRow> {
  const loaded = loadSpecFile(STEP_SPEC, { set: ['train.sync_batchnorm=false', 'loss.global_negatives=true', ...(options.quick ? ['train.batch_size=32'] : [])] });
  if (!loaded.spec) throw new Error(`bench collective: ${STEP_SPEC}: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const spec = loaded.spec;
  const rt = await runtime();
  const { loader, schedule, stepSpec } = trainingPlan(spec, 0);
  const engine = await dataParallelEngine(rt, spec, stepSpec, compile(stepSpec, { target: rt.target }), c);
  const steps = options.repeats;
  const batches: Uint8Array[] = [];
  for (let k = 0; k <= steps; k++) batches.push((await loader.next()).images as Uint8Array);
  const run = (k: number) => engine.step(batches[k], stepScalars(stepSpec.optimizer, k + 1, lrAt(schedule, k), spec.train.seed));
  await run(0);
  const before = { ...engine.communication };
  c.barrier();
  const started = performance.now();
  for (let k = 1; k <= steps; k++) await run(k);
  // The last update was submitted, not waited for: reading a weight waits for it.
  await engine.read(engine.persistentNames[0]);
  const stepMs = (performance.now() - started) / steps;
  const per = (key: 'all_gather_ms' | 'reduce_scatter_ms' | 'all_reduce_ms') => (engine.communication[key] - before[key]) / steps;
  const comm = per('all_gather_ms') + per('reduce_scatter_ms') + per('all_reduce_ms');
  const row: StepRow = {
    bench: 'collective',
    op: 'step',
    processes: c.size,
    spec: spec.name,
    batch: spec.train.batch_size,
    steps,
    step_ms: round(stepMs, 2),
    all_gather_ms: round(per('all_gather_ms'), 4),
    reduce_scatter_ms: round(per('reduce_scatter_ms'), 4),
    all_reduce_ms: round(per('all_reduce_ms'), 4),
    communication_share: round(comm / stepMs, 5),
    gradient_bytes: engine.communication.all_reduce_bytes,
    embedding_bytes: engine.communication.all_gather_bytes,
  };
  engine.destroy();
  emit(row);
  return row;
}
