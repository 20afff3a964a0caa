// Collectives over Open MPI, through the addon in native/mpi/ (built by `npm run setup`). The addon
// is loaded on first use only, so nothing here touches MPI in a single-process run.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Collectives } from './collectives.js';

export const ADDON_PATH = fileURLToPath(new URL('../../../native/mpi/build/Release/mpi.node', import.meta.url));

interface Addon {
  init(): void;
  finalize(): void;
  rank(): number;
  size(): number;
  localRank(): number;
  barrier(): void;
  broadcast(data: ArrayBufferView, root: number): void;
  allReduceSum(data: Float32Array): void;
  allGather(local: Float32Array, out: Float32Array): void;
  reduceScatterSum(full: Float32Array, out: Float32Array): void;
  abort(code: number): never;
  version(): string;
}

export class MpiUnavailableError extends Error {
  readonly code = 'E0406';
  constructor(detail: string) {
    super(`E0406 MPI is not usable: ${detail}. Run \`npm run setup\` (installs Open MPI and builds native/mpi/).`);
    this.name = 'MpiUnavailableError';
  }
}

let addon: Addon | undefined;

/** The addon, loaded once; a missing build or a missing libmpi is an E0406 error naming the fix. */
export function loadAddon(): Addon {
  if (addon) return addon;
  if (!existsSync(ADDON_PATH)) throw new MpiUnavailableError(`the MPI addon is not built (${ADDON_PATH} is missing)`);
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (err) {
    throw new MpiUnavailableError(`the MPI addon did not load (${(err as Error).message})`);
  }
  return addon;
}

export class MpiCollectives implements Collectives {
  readonly rank: number;
  readonly size: number;
  readonly localRank: number;

  private constructor(private readonly mpi: Addon) {
    this.rank = mpi.rank();
    this.size = mpi.size();
    this.localRank = mpi.localRank();
  }

  /** Initialises MPI (once per process) and returns this process's place in the job. */
  static open(): MpiCollectives {
    const mpi = loadAddon();
    mpi.init();
    return new MpiCollectives(mpi);
  }

  barrier(): void {
    this.mpi.barrier();
  }
  broadcast(data: ArrayBufferView, root = 0): void {
    this.mpi.broadcast(data, root);
  }
  allReduceSum(data: Float32Array): void {
    this.mpi.allReduceSum(data);
  }
  allGather(local: Float32Array, out = new Float32Array(local.length * this.size)): Float32Array {
    this.mpi.allGather(local, out);
    return out;
  }
  reduceScatterSum(full: Float32Array, out?: Float32Array): Float32Array {
    if (full.length % this.size) throw new Error(`reduceScatterSum: ${full.length} elements do not split over ${this.size} processes`);
    out ??= new Float32Array(full.length / this.size);
    this.mpi.reduceScatterSum(full, out);
    return out;
  }
  abort(code: number): never {
    return this.mpi.abort(code);
  }
  finalize(): void {
    this.mpi.finalize();
  }
}
