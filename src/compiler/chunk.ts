// Whether a training step fits the device, and when it does not, the chunk size that makes it fit.
// A step fits when no planned buffer is over what one binding (or one buffer) may hold and the
// planned peak is within the memory budget. Compiling is cheap on the CPU, so the chunk size is found
// by compiling at candidate sizes: the fewest chunks that fit, then equal chunks of that count.
import type { Target } from '../kernels/op.js';
import type { KernelGraph, PlannedBuffer } from './kernel-graph.js';

/** What the step's buffers must stay within, in bytes. */
export interface DeviceLimits {
  /** The largest buffer one binding may hold: min(maxStorageBufferBindingSize, maxBufferSize). */
  binding: number;
  /** The planned peak's ceiling: train.memory_budget, else half the adapter's maxBufferSize. */
  budget: number;
}

export function deviceLimits(target: Target, budgetMiB?: number): DeviceLimits {
  const buffer = target.maxBufferSize ?? 2 * target.maxStorageBufferBindingSize;
  // WebGPU reports no device memory size: maxBufferSize is the one figure, and half of it leaves
  // room for the pipelines, the augmentation's buffers and other programs of the run.
  return { binding: Math.min(target.maxStorageBufferBindingSize, buffer), budget: budgetMiB !== undefined ? budgetMiB * MIB : Math.floor(buffer / 2) };
}

export interface ChunkPlan {
  batch: number;
  chunk: number;
  chunks: number;
  /** 'train.chunk' when the spec set it; else what the unchunked step was over. */
  reason: 'train.chunk' | 'binding' | 'budget';
  /** Planned peaks of this step and, when it was compiled, of the unchunked one. */
  peakBytes: number;
  unchunkedPeakBytes?: number;
}

/** A step that cannot fit, with the spec field to change and the largest value that fits. */
export class ChunkError extends Error {
  readonly specPath: string[];
  constructor(
    readonly code: 'E0601' | 'E0602',
    readonly field: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'ChunkError';
    this.specPath = field.split('.');
  }
}

/** The first thing over the limits, or undefined when the kernel graph fits. */
export function overLimits(kg: KernelGraph, limits: DeviceLimits): { what: 'binding' | 'budget'; buffer: PlannedBuffer; text: string } | undefined {
  const biggest = kg.buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  if (biggest.bytes > limits.binding) {
    return { what: 'binding', buffer: biggest, text: `buffer ${describe(kg, biggest)} takes ${mib(biggest.bytes)}, over the ${mib(limits.binding)} one binding may hold` };
  }
  if (kg.memory.plannedBytes > limits.budget) {
    return { what: 'budget', buffer: biggest, text: `the planned peak ${mib(kg.memory.plannedBytes)} is over the memory budget of ${mib(limits.budget)} (train.memory_budget)` };
  }
  return undefined;
}

/**
 * The kernel graph of `batch` images per view (of `size` pixels a side) that fits, chunked when it
 * must be. `compileAt` compiles the step at a chunk size (undefined: one pass), and at another
 * batch when a smaller batch is to be named; it is called at most once per chunk size of `batch`.
 */
export function fitStep<T extends { kernels: KernelGraph }>(
  batch: number,
  size: number,
  limits: DeviceLimits,
  given: number | undefined,
  compileAt: (chunk: number | undefined, batch?: number) => T,
): { compiled: T; plan?: ChunkPlan } {
  const cache = new Map<number, T>();
  const at = (chunk: number) => {
    if (!cache.has(chunk)) cache.set(chunk, compileAt(chunk < batch ? chunk : undefined));
    return cache.get(chunk)!;
  };
  const planOf = (chunk: number, reason: ChunkPlan['reason']): ChunkPlan | undefined =>
    chunk >= batch ? undefined : { batch, chunk, chunks: Math.ceil(batch / chunk), reason, peakBytes: at(chunk).kernels.memory.plannedBytes, ...(cache.has(batch) ? { unchunkedPeakBytes: at(batch).kernels.memory.plannedBytes } : {}) };

  if (given !== undefined) {
    if (Math.ceil(batch / given) > MAX_CHUNKS) {
      throw new ChunkError('E0602', 'train.chunk', `train.chunk ${given} splits the batch of ${batch} into ${Math.ceil(batch / given)} chunks, over the ${MAX_CHUNKS} a step may have: the smallest train.chunk for this batch is ${Math.ceil(batch / MAX_CHUNKS)}.`);
    }
    const over = overLimits(at(given).kernels, limits);
    if (!over) return { compiled: at(given), plan: planOf(given, 'train.chunk') };
    const fits = searchFit(batch, limits, at).chunk;
    throw new ChunkError('E0602', 'train.chunk', `train.chunk ${given} does not fit the device: ${over.text}. ${fits ? `The largest train.chunk that fits is ${fits}` : 'No chunk size fits'}.`);
  }
  const over = overLimits(at(batch).kernels, limits);
  if (!over) return { compiled: at(batch) };
  const fit = searchFit(batch, limits, at);
  if (fit.chunk) return { compiled: at(fit.chunk), plan: planOf(fit.chunk, over.what) };
  const atBatch = (b: number) => {
    const chunk = Math.ceil(b / MAX_CHUNKS);
    return compileAt(chunk < b ? chunk : undefined, b).kernels;
  };
  throw unfit(batch, size, limits, at(fit.smallest).kernels, fit.smallest, atBatch);
}

/**
 * The most chunks a step is split into. Each chunk is kernels of its own in the graph, so compiling
 * grows with the count (a 1024-image step at one image per chunk took 90 s to refuse); past this
 * many the recomputation and the dispatches cost more than a smaller batch would anyway.
 */
export const MAX_CHUNKS = 64;

/**
 * The smallest number of chunks (at most MAX_CHUNKS) whose step fits, as equal chunks (the largest
 * chunk of that count only raises the peak); else no chunk, and the smallest chunk tried.
 */
function searchFit<T extends { kernels: KernelGraph }>(batch: number, limits: DeviceLimits, at: (chunk: number) => T): { chunk?: number; smallest: number } {
  for (let chunks = 2; ; ) {
    const chunk = Math.ceil(batch / chunks);
    const over = overLimits(at(chunk).kernels, limits);
    if (!over) return { chunk, smallest: chunk };
    if (chunk === 1 || chunks >= MAX_CHUNKS) return { smallest: chunk };
    // The activations shrink with the chunk: jump by how far over the limit the step still is.
    const ratio = over.what === 'binding' ? over.buffer.bytes / limits.binding : at(chunk).kernels.memory.plannedBytes / limits.budget;
    chunks = Math.min(MAX_CHUNKS, Math.max(Math.ceil(batch / (chunk - 1)), Math.floor(chunks * Math.min(ratio, 2))));
  }
}

/**
 * Even the smallest chunk (one image, or batch / MAX_CHUNKS) is over the limits: say which field to
 * change and how far.
 */
function unfit(batch: number, size: number, limits: DeviceLimits, kg: KernelGraph, chunk: number, compileBatch: (batch: number) => KernelGraph): ChunkError {
  const over = overLimits(kg, limits)!;
  const how = chunk === 1 ? 'even one image per chunk' : `even in ${Math.ceil(batch / chunk)} chunks of ${chunk} images (at most ${MAX_CHUNKS} chunks a step)`;
  if (over.what === 'budget') {
    return new ChunkError('E0601', 'train.memory_budget', `the step does not fit ${how}: ${over.text}. Raise train.memory_budget to at least ${Math.ceil(kg.memory.plannedBytes / MIB)} (MiB), or lower train.batch_size.`);
  }
  // A temporary is one chunk's activations: once a chunk is one image, only a smaller image (or a
  // narrower layer) makes it smaller. A persistent buffer (the views, the embeddings) and, past the
  // most chunks, a chunk's activations grow with the batch.
  const temp = kg.buffers.filter((b) => b.kind === 'temp').reduce((a, b) => (b.bytes > a.bytes ? b : a), { bytes: 0 } as PlannedBuffer);
  if (chunk === 1 && temp.bytes > limits.binding) {
    const text = `buffer ${describe(kg, temp)} takes ${mib(temp.bytes)}, over the ${mib(limits.binding)} one binding may hold`;
    return new ChunkError('E0601', 'augment.size', `one image's activations do not fit a binding: ${text}. Lower augment.size (at most about ${Math.floor(Math.sqrt(limits.binding / temp.bytes) * size)}, since activations grow with its square) or the layer's width.`);
  }
  const largest = largestBatch(batch, kg, limits, compileBatch);
  return new ChunkError('E0601', 'train.batch_size', `the step does not fit ${how}: ${over.text}. ${largest ? `The largest train.batch_size that fits is ${largest}` : 'No train.batch_size fits'}.`);
}

/**
 * The largest batch whose step fits in the most chunks. Its buffers grow about linearly with the
 * batch, so the first guess scales the batch by how far over the limits it is; the constant part
 * (parameters, scratch) can make a guess still too large, so each guess is compiled, the next one
 * scales down from it the same way, and the first that fits is raised by bisection.
 */
function largestBatch(batch: number, kg: KernelGraph, limits: DeviceLimits, compileBatch: (batch: number) => KernelGraph): number | undefined {
  const shrink = (b: number, g: KernelGraph) => {
    const biggest = g.buffers.reduce((a, x) => Math.max(a, x.bytes), 0);
    return Math.min(b - 1, Math.floor(b * Math.min(limits.binding / biggest, limits.budget / g.memory.plannedBytes)));
  };
  let over = batch;
  for (let b = shrink(batch, kg); b >= 1; ) {
    const g = compileBatch(b);
    if (overLimits(g, limits)) {
      over = b;
      b = shrink(b, g);
      continue;
    }
    // b fits and `over` does not: the largest batch that fits lies between them.
    let fits = b;
    while (over - fits > 1) {
      const mid = Math.floor((fits + over) / 2);
      if (overLimits(compileBatch(mid), limits)) over = mid;
      else fits = mid;
    }
    return fits;
  }
  return undefined;
}

function describe(kg: KernelGraph, b: PlannedBuffer): string {
  if (b.name) return `'${b.name}'`;
  const writer = kg.kernels.find((k) => k.dispatches.some((d) => d.buffers.includes(b.id)));
  return writer ? `of ${writer.label} (${writer.path})` : `${b.id}`;
}

const MIB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
