// The collectives a data-parallel run needs, behind one interface: a single process needs no MPI
// (and never loads the addon); a process started by mpirun talks to its peers through Open MPI.
//
// Every call is synchronous: it returns when the collective has completed on this process, with the
// JavaScript thread blocked meanwhile. A step waits for its gradients before the update anyway.

/**
 * One process's view of the job.
 *
 * Which GPU a process uses: each process opens exactly one WebGPU adapter (src/gpu/device.ts takes
 * the one Dawn prefers), so on a host with several GPUs each process must see only its own, the one
 * at its `localRank` (its 0-based index among the job's processes on that host). What npm `webgpu`
 * 0.6 offers: `create()` takes `adapter=<name>`, matched against the adapter's name (`adapter=llvm`
 * selects "llvmpipe (LLVM 15.0.6, 256 bits)"; an unknown name lists the adapters), `backend=` and
 * Dawn toggles, but no index, so identical GPUs, which share a name, cannot be told apart there.
 * CUDA_VISIBLE_DEVICES restricts CUDA, not the Vulkan driver Dawn uses on Linux. The restriction is
 * therefore the container's: one GPU per container (the Kubernetes NVIDIA device plugin, or
 * NVIDIA_VISIBLE_DEVICES=$OMPI_COMM_WORLD_LOCAL_RANK under the NVIDIA container runtime) exposes
 * only that GPU's device nodes, so the process's only adapter is its GPU. README, "Several processes".
 */
export interface Collectives {
  readonly rank: number;
  readonly size: number;
  readonly localRank: number;
  barrier(): void;
  /** Overwrites `data` on every process with root's bytes (f32 tensors and raw bytes alike). */
  broadcast(data: ArrayBufferView, root?: number): void;
  /** In place: every process ends with the element-wise sum over all processes. */
  allReduceSum(data: Float32Array): void;
  /**
   * Every process's `local`, concatenated in rank order (size × local.length elements), into `out`
   * when given: a training step reuses one buffer instead of allocating one per call.
   */
  allGather(local: Float32Array, out?: Float32Array): Float32Array;
  /** This process's block (full.length / size elements) of the element-wise sum of every `full`. */
  reduceScatterSum(full: Float32Array, out?: Float32Array): Float32Array;
  /** Ends every process of the job with `code`. */
  abort(code: number): never;
  finalize(): void;
}

/** Set by mpirun (Open MPI's own variable) or by any PMIx launcher it uses underneath. */
export function launchedUnderMpi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined || env.PMIX_RANK !== undefined;
}

export class SingleProcess implements Collectives {
  readonly rank = 0;
  readonly size = 1;
  readonly localRank = 0;
  barrier(): void {}
  broadcast(_data: ArrayBufferView, root = 0): void {
    if (root !== 0) throw new Error(`broadcast root ${root} outside 0..0`);
  }
  allReduceSum(_data: Float32Array): void {}
  allGather(local: Float32Array, out = new Float32Array(local.length)): Float32Array {
    out.set(local);
    return out;
  }
  reduceScatterSum(full: Float32Array, out = new Float32Array(full.length)): Float32Array {
    out.set(full);
    return out;
  }
  abort(code: number): never {
    process.exit(code);
  }
  finalize(): void {}
}

/** The collectives of this process: MPI's when mpirun started it, else a job of one. */
export async function openCollectives(env: NodeJS.ProcessEnv = process.env): Promise<Collectives> {
  if (!launchedUnderMpi(env)) return new SingleProcess();
  const { MpiCollectives } = await import('./mpi.js');
  return MpiCollectives.open();
}
