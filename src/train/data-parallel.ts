// A data-parallel training step: every process of an MPI job runs the same network on its slice of
// the global batch, and collectives between its compiled graphs make the step the single-process
// step of the global batch. Per step, on each process:
//   local graph, forward kernels: augment (draws keyed by the global image index) → encoder →
//     projector → z, this process's 2n rows (its view-1 rows, then its view-2 rows)
//   host: all-gather z from every process into the global Z (view 1 of every image, then view 2),
//     the layout of a single process's z, so the positive of row i stays (i + N) mod 2N
//   loss graph: the fused InfoNCE over the global Z for this process's anchors (two blocks, its
//     view-1 and view-2 rows) against every key, and its backward: ∂L/∂Z for every key
//   host: reduce-scatter ∂L/∂Z, so each key's gradient (summed over every process's copy, the
//     all-gather's backward) reaches the process that owns it
//   local graph, backward kernels: from ∂L/∂z through the network to the parameter gradients
//   host: all-reduce (sum) the parameter gradients and the loss
//   update graph: the optimizer's update, identical on every process
// With sync BatchNorm (train.sync_batchnorm, on by default) each BatchNorm's statistics and its
// backward's sums are programs of their own (the op's `replicas` attr) and the step stops after
// each of them to all-reduce the per-channel partial sums they wrote: Σx, then Σ(x − mean)² about
// the global mean in the forward, Σ∂y and Σ∂y·x̂ in the backward (the parameter gradients ∂β, ∂γ
// keep this process's share for the all-reduce of every gradient). The statistics are then those
// of the global batch, and so is the step.
// The collectives run on the host between submissions (read back, MPI, write): simple and correct,
// at the price of a readback and a write per collective; device-side collectives are later work.
import { compileGraph, type Compiled, type TrainingSpec } from '../compiler/compile.js';
import type { KernelGraph } from '../compiler/kernel-graph.js';
import type { Collectives } from '../dist/collectives.js';
import { StepExecutor, initialWeights } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import { appendBackward } from '../ir/autodiff.js';
import { Builder } from '../ir/build.js';
import { Graph, pruned, type Tensor } from '../ir/graph.js';
import { appendUpdate } from '../ir/optimizer.js';
import { phaseHead, type PhaseSpec } from '../ir/phase.js';
import { pretrainPhase } from '../ir/phases.js';
import type { StepScalars } from '../kernels/op.js';
import type { ResolvedSpec } from '../spec/index.js';

/** A spec that cannot run on this many processes: a coded error naming the fix. */
export class DataParallelError extends Error {
  constructor(
    readonly code: 'E0409',
    message: string,
  ) {
    super(`${code} ${message}`);
    this.name = 'DataParallelError';
  }
}

/** What the trainer needs of a step, whether one process runs it or a job of several. */
export interface StepEngine {
  /** Names of the tensors a checkpoint holds: every param and state tensor. */
  readonly persistentNames: string[];
  shapeOf(name: string): number[] | undefined;
  read(name: string): Promise<Float32Array>;
  /** One training step over the global batch `images`; returns the global batch's loss. */
  step(images: Uint8Array, scalars: Partial<StepScalars>): Promise<number>;
  destroy(): void;
  /**
   * A job of several processes stops together: `requestStop` (this process was interrupted) rides
   * on the next step's all-reduce, and after that step `stopping` is true on every process.
   */
  requestStop?(): void;
  readonly stopping?: boolean;
}

/** Time in each collective of the step since the engine was made, and the bytes each leaves on every process. */
export interface Communication {
  steps: number;
  all_gather_ms: number;
  reduce_scatter_ms: number;
  all_reduce_ms: number;
  /** Sync BatchNorm's all-reduces of per-channel sums, forward and backward. */
  batchnorm_ms: number;
  /** The gathered embeddings (the global Z), the same size as the reduce-scatter's input. */
  all_gather_bytes: number;
  /** Every parameter gradient, the loss and the stop flag, all-reduced as one tensor. */
  all_reduce_bytes: number;
  /** Sync BatchNorm's per-channel sums, every all-reduce of a step together. */
  batchnorm_bytes: number;
}

/** The single-process step: one graph, one submission, the loss read back. */
export function singleEngine(executor: StepExecutor): StepEngine {
  return {
    get persistentNames() {
      return executor.persistentNames;
    },
    shapeOf: (name) => executor.graph.outputs[name]?.shape,
    read: (name) => executor.read(name),
    async step(images, scalars) {
      // The augment op draws this step's views on the device from (seed, step): only the raw images travel.
      executor.write('source', images);
      executor.setStep(scalars);
      executor.record();
      return (await executor.read('loss'))[0];
    },
    destroy: () => executor.destroy(),
  };
}

/** Images of the global batch each process takes; the batch must split evenly. */
export function localBatch(batchSize: number, processes: number): number {
  if (batchSize % processes) {
    throw new DataParallelError('E0409', `train.batch_size ${batchSize} does not split evenly over ${processes} processes: make it a multiple of ${processes}`);
  }
  return batchSize / processes;
}

interface LocalGraph {
  graph: Graph;
  z: Tensor;
  trained: Tensor[];
}

/**
 * Augment → network → z for this process's images, and the backward from an input ∂L/∂z ('dz') to
 * every trained parameter's gradient, kept as outputs `grad:NAME`; no update: the gradients are
 * all-reduced before it.
 */
export function localGraph(p: PhaseSpec, syncReplicas?: number): LocalGraph {
  const g = new Graph();
  const { views } = phaseHead(g, p);
  const b = new Builder(g, p.mode, 'forward');
  const z = b.network(views, p.network!);
  // Sync BatchNorm: the batchnorm ops (and so their backward ops) split at their reductions.
  if (syncReplicas !== undefined) for (const node of g.nodes) if (node.op === 'batchnorm') node.attrs = { ...node.attrs, replicas: syncReplicas };
  for (const [name, t] of Object.entries(b.named)) g.outputs.set(name, t.id);
  const frozen = p.frozen ?? [];
  const trained = b.params.filter((t) => !frozen.some((prefix) => t.name!.startsWith(prefix)));
  const dz = g.leaf('input', z.shape, 'loss', { name: 'dz' });
  const grads = appendBackward(g, z, trained, dz);
  for (const t of trained) g.outputs.set(`grad:${t.name}`, grads.get(t.id)!.id);
  return { graph: pruned(g), z, trained };
}

/**
 * The InfoNCE over `rows` keys ('Z') for the anchor blocks given, and ∂L/∂Z ('dZ'). The op divides
 * by the keys' count, so the block losses of every process sum to the mean over the global batch.
 */
export function lossGraph(rows: number, dim: number, blocks: { offset: number; count: number }[], temperature: number): Graph {
  const g = new Graph();
  const keys = g.leaf('input', [rows, dim], 'loss', { name: 'Z' });
  const losses = blocks.map((b) => g.add('infonce', [keys], { temperature, anchor_offset: b.offset, anchor_count: b.count }, 'loss')[0]);
  const loss = losses.slice(1).reduce((sum, l) => g.add('add', [sum, l], {}, 'loss')[0], losses[0]);
  g.outputs.set('loss', loss.id);
  g.outputs.set('dZ', appendBackward(g, loss, [keys]).get(keys.id)!.id);
  return pruned(g);
}

/** The optimizer's update of `params` from inputs `grad:NAME`; the params and moments are updated in place. */
export function updateGraph(params: Tensor[], optimizer: TrainingSpec['optimizer']): Graph {
  const g = new Graph();
  const grads = new Map<number, Tensor>();
  const own = params.map((p) => {
    const t = g.leaf('param', p.shape, p.path, { name: p.name, kind: p.kind });
    grads.set(t.id, g.leaf('input', p.shape, p.path, { name: `grad:${p.name}` }));
    return t;
  });
  appendUpdate(g, own, grads, optimizer);
  return g;
}

/**
 * The data-parallel step of this process. `single` is the single-process step's compiled graph:
 * without a checkpoint, the weights start as that step's would, so any number of processes trains
 * the same network from the same start.
 */
export async function dataParallelEngine(
  rt: Runtime,
  spec: ResolvedSpec,
  stepSpec: TrainingSpec,
  single: Compiled,
  collectives: Collectives,
  initial?: Record<string, Float32Array>,
): Promise<StepEngine & { communication: Communication; requestStop(): void; readonly stopping: boolean }> {
  const { rank, size } = collectives;
  const n = localBatch(stepSpec.train.batch_size, size);
  const phase = pretrainPhase(stepSpec, n);
  if (!phase.augment) throw new Error('a data-parallel step augments its images on the device: the spec needs augment ops');
  phase.augment = { ...phase.augment, image_offset: rank * n };
  const local = localGraph(phase, spec.train.sync_batchnorm !== false ? size : undefined);
  const global = spec.loss.global_negatives;
  const [rows, dim] = local.z.shape;
  const keys = global ? size * rows : rows;
  // Global Z is [view][process][image]: this process's anchors are its images in either view.
  const blocks = global ? [0, 1].map((v) => ({ offset: v * size * n + rank * n, count: n })) : [{ offset: 0, count: rows }];
  const temperature = spec.loss.temperature;
  const weights = initial ?? initialWeights(single.kernels, spec.train.seed);
  const localKernels = compileGraph(local.graph, rt.target).kernels;
  const localExec = await StepExecutor.create(rt, localKernels, { initial: weights });
  const lossExec = await StepExecutor.create(rt, compileGraph(lossGraph(keys, dim, blocks, temperature), rt.target).kernels);
  const names = local.trained.map((t) => t.name!);
  const bind = Object.fromEntries(names.flatMap((name) => [
    [name, localExec.buffer(name)],
    [`grad:${name}`, localExec.buffer(`grad:${name}`)],
  ]));
  const updateExec = await StepExecutor.create(rt, compileGraph(updateGraph(local.trained, stepSpec.optimizer), rt.target).kernels, { initial: weights, bind });
  const syncs = syncPoints(localKernels);
  const split = localKernels.kernels.findIndex((k) => k.stage === 'backward');
  if (split < 0 || localKernels.kernels.slice(split).some((k) => k.stage !== 'backward')) {
    throw new Error('the local step graph does not run its forward kernels before its backward ones');
  }
  const sizes = names.map((name) => local.trained.find((t) => t.name === name)!.shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  // One all-reduce per step carries every gradient, the loss and, last, how many processes ask to stop.
  const reduced = new Float32Array(total + 2);
  let stopAsked = false;
  let stopping = false;
  const gathered = new Float32Array(size * rows * dim);
  const keyGrads = new Float32Array(size * rows * dim);
  const persistent = [...new Set([...localExec.persistentNames, ...updateExec.persistentNames])];
  const execOf = (name: string) => (localExec.persistentNames.includes(name) ? localExec : updateExec);
  const communication: Communication = {
    steps: 0,
    all_gather_ms: 0,
    reduce_scatter_ms: 0,
    all_reduce_ms: 0,
    batchnorm_ms: 0,
    all_gather_bytes: global ? gathered.byteLength : 0,
    all_reduce_bytes: reduced.byteLength,
    batchnorm_bytes: syncs.reduce((sum, p) => sum + 4 * p.buffers.length * p.count, 0),
  };
  const timed = <T>(key: 'all_gather_ms' | 'reduce_scatter_ms' | 'all_reduce_ms' | 'batchnorm_ms', collective: () => T): T => {
    const started = performance.now();
    const out = collective();
    communication[key] += performance.now() - started;
    return out;
  };
  // This process's own ∂γ and ∂β of each sync BatchNorm, by buffer: its share of the gradient all-reduce.
  const ownGrads = new Map<number, Float32Array>();
  /** Records kernels [from, to) of the local graph, stopping after each sync program for its all-reduce. */
  const runLocal = async (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const points = syncs.filter((p) => p.kernel === k);
      if (!points.length) {
        localExec.recordKernel(k);
        continue;
      }
      for (let d = 0; d < localKernels.kernels[k].dispatches.length; d++) {
        localExec.recordDispatch(k, d);
        const point = points.find((p) => p.dispatch === d);
        if (!point) continue;
        const sums = await Promise.all(point.buffers.map((id) => localExec.readBuffer(id, point.count)));
        for (let i = 0; i < sums.length; i++) {
          if (point.gradients) ownGrads.set(point.buffers[i], sums[i].slice());
          timed('batchnorm_ms', () => collectives.allReduceSum(sums[i]));
          localExec.writeBuffer(point.buffers[i], sums[i]);
        }
      }
    }
  };
  const gradBuffer = names.map((name) => localKernels.outputs[`grad:${name}`].buffer);
  const shapes = new Map<string, number[]>();
  for (const e of [localExec, updateExec]) for (const [name, out] of Object.entries(e.graph.outputs)) shapes.set(name, out.shape);

  return {
    communication,
    requestStop: () => void (stopAsked = true),
    get stopping() {
      return stopping;
    },
    persistentNames: persistent,
    shapeOf: (name) => shapes.get(name),
    read: (name) => execOf(name).read(name),
    async step(images, scalars) {
      const perProcess = images.length / size;
      localExec.write('source', images.subarray(rank * perProcess, (rank + 1) * perProcess));
      localExec.setStep(scalars);
      updateExec.setStep(scalars);
      await runLocal(0, split);
      const z = await localExec.read('z');
      const half = n * dim;
      let keysIn = z;
      if (global) {
        timed('all_gather_ms', () => collectives.allGather(z, gathered));
        keysIn = reorder(gathered, size, half, true);
      }
      lossExec.write('Z', keysIn);
      lossExec.record();
      reduced[total] = (await lossExec.read('loss'))[0];
      const dZ = await lossExec.read('dZ');
      let dz = dZ;
      if (global) {
        keyGrads.set(reorder(dZ, size, half, false));
        dz = timed('reduce_scatter_ms', () => collectives.reduceScatterSum(keyGrads));
      }
      localExec.write('dz', dz);
      await runLocal(split, localKernels.kernels.length);
      let at = 0;
      for (let i = 0; i < names.length; i++) {
        reduced.set(ownGrads.get(gradBuffer[i]) ?? (await localExec.read(`grad:${names[i]}`)), at);
        at += sizes[i];
      }
      reduced[total + 1] = stopAsked ? 1 : 0;
      timed('all_reduce_ms', () => collectives.allReduceSum(reduced));
      stopping = reduced[total + 1] > 0;
      // With global negatives each process's loss and gradients are its share of the global mean
      // already (the op divides by all keys): their sum is the global batch's. With local negatives
      // each process's loss is a mean of its own: the global loss is the mean of those.
      if (!global) for (let i = 0; i <= total; i++) reduced[i] /= size;
      at = 0;
      for (let i = 0; i < names.length; i++) {
        localExec.write(`grad:${names[i]}`, reduced.subarray(at, at + sizes[i]));
        at += sizes[i];
      }
      updateExec.record();
      // Submitted now: the next step's setStep must not reach the update's uniform before it runs.
      rt.submit();
      communication.steps++;
      return reduced[total];
    },
    destroy() {
      updateExec.destroy();
      lossExec.destroy();
      localExec.destroy();
    },
  };
}

/** A sync BatchNorm program after which the step all-reduces `count` floats of each of `buffers`. */
interface SyncPoint {
  kernel: number;
  dispatch: number;
  buffers: number[];
  count: number;
  /** ∂γ and ∂β: the parameter gradients, whose own share the gradient all-reduce takes. */
  gradients: boolean;
}

/** Where the compiled local step stops for sync BatchNorm's all-reduces (the batchnorm op's sync programs and their bindings). */
function syncPoints(graph: KernelGraph): SyncPoint[] {
  const points: SyncPoint[] = [];
  graph.kernels.forEach((kernel, k) => {
    const count = kernel.shapes[0]?.[1];
    kernel.dispatches.forEach((d, dispatch) => {
      // Bindings as src/kernels/batchnorm.ts plans them (a fused prologue only appends its own).
      const at = (buffers: number[], gradients = false) => points.push({ kernel: k, dispatch, buffers, count, gradients });
      if (d.label.startsWith('batchnorm_sync_sum')) at([d.buffers[1]]);
      else if (d.label.startsWith('batchnorm_sync_centred')) at([d.buffers[2]]);
      else if (d.label.startsWith('batchnorm_sync_grad_sums')) at([d.buffers[4], d.buffers[5]], true);
    });
  });
  return points;
}

/**
 * Between the all-gather's layout [process][view][image] and the single-process layout
 * [view][process][image] (`toGlobal`), or back; `half` is the floats of one process's view block.
 */
function reorder(data: Float32Array, processes: number, half: number, toGlobal: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let p = 0; p < processes; p++) {
    for (let v = 0; v < 2; v++) {
      const gathered = (p * 2 + v) * half;
      const global = (v * processes + p) * half;
      if (toGlobal) out.set(data.subarray(gathered, gathered + half), global);
      else out.set(data.subarray(global, global + half), gathered);
    }
  }
  return out;
}
