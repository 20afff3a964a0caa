// `bench collective`: time and bytes of the all-reduce (parameter gradients) and the all-gather
// (embeddings for global negatives) across 2 processes on this host. Run plainly, the suite starts
// itself under mpirun and passes on rank 0's rows; under mpirun, every rank measures in lockstep.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchedUnderMpi, openCollectives, type Collectives } from '../dist/collectives.js';
import { localLaunch } from '../dist/launch.js';
import { ADDON_PATH, MpiUnavailableError } from '../dist/mpi.js';
import { measure, round, type BenchOptions, type BenchSuite } from './measure.js';

const CLI = fileURLToPath(new URL('../../../bin/simclr-compile.js', import.meta.url));
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
};

async function measureRanks(c: Collectives, options: BenchOptions, emit: (row: CollectiveRow) => void): Promise<void> {
  const p = c.size;
  for (const bytes of options.quick ? QUICK_SIZES : SIZES) {
    const floats = bytes / 4;
    const calls = Math.max(1, Math.floor(BYTES_PER_SAMPLE / bytes));
    const summed = new Float32Array(floats).fill(c.rank + 1);
    const local = new Float32Array(floats / p).fill(c.rank);
    const gathered = new Float32Array(floats);
    const ops: [CollectiveRow['op'], () => void, number][] = [
      ['all_reduce', () => c.allReduceSum(summed), (2 * (p - 1)) / p],
      ['all_gather', () => void c.allGather(local, gathered), (p - 1) / p],
    ];
    for (const [op, once, linkShare] of ops) {
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
      await measureRanks(c, options, (row) => c.rank === 0 && emit(row));
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
