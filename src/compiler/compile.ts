// The whole pipeline from a phase to a kernel graph, one call per stage: build (augment, forward,
// loss, backward, update) → schedule → fuse → lower (kernel plans bound to planned buffers).
import type { Attrs, DType, Shape, Target } from '../kernels/op.js';
import '../kernels/index.js';
import { Graph } from '../ir/graph.js';
import type { ModelSpec } from '../ir/model-spec.js';
import type { OptimizerSpec } from '../ir/optimizer.js';
import { buildPhase, type PhaseSpec } from '../ir/phase.js';
import { featuresPhase, pretrainPhase } from '../ir/phases.js';
import { deviceLimits, fitStep, type ChunkPlan } from './chunk.js';
import { fuse } from './fuse.js';
import type { KernelGraph } from './kernel-graph.js';
import { lower } from './lower.js';
import { halfPrecision } from './precision.js';
import { scheduleUpdates } from './schedule.js';

export interface TrainingSpec extends ModelSpec {
  optimizer: OptimizerSpec;
  train: { batch_size: number; chunk?: number; memory_budget?: number; precision?: 'f32' | 'f16' };
}

export interface CompileOptions {
  target: Target;
  /** Images per view (the spec's train.batch_size by default). */
  batch?: number;
  /** Fusion on by default; off gives one kernel per graph node (for comparison and debugging). */
  fuse?: boolean;
  /** Keep every parameter's gradient as an output named `grad:NAME` (for checking, costs memory). */
  keepGrads?: boolean;
  /** Images per chunk, overriding the spec's train.chunk (`bench`, tests). */
  chunk?: number;
  /** Storage precision of activations, overriding the spec's train.precision (`bench`, tests). */
  precision?: 'f32' | 'f16';
}

export interface Compiled {
  /** The phase's nodes before fusion. */
  graph: Graph;
  /** The graph after fusion: one node per kernel, in kernel order. */
  lowered: Graph;
  kernels: KernelGraph;
  /** How the step was split into chunks of images to fit the device; absent for one pass. */
  chunking?: ChunkPlan;
}

/** Any phase as a kernel graph for the target. */
export function compilePhase(phase: PhaseSpec, target: Target, options: { fuse?: boolean } = {}): Compiled {
  const { graph } = buildPhase(phase);
  return compileGraph(phase.precision === 'f16' ? halfPrecision(graph, target) : graph, target, options);
}

/** A graph built directly from ops (the kNN evaluation's similarity → top-k → vote) as a kernel graph. */
export function compileGraph(graph: Graph, target: Target, options: { fuse?: boolean } = {}): Compiled {
  const scheduled = scheduleUpdates(graph);
  const lowered = options.fuse === false ? scheduled : fuse(scheduled, target);
  return { graph, lowered, kernels: lower(lowered, target) };
}

/** The contrastive training step's graph: forward, gradients of every parameter, optimizer updates. */
export function stepGraph(spec: TrainingSpec, batch: number, keepGrads = false): Graph {
  return buildPhase(pretrainPhase(spec, batch, keepGrads)).graph;
}

/** The training step that fits the target: one pass, or chunks of images (src/compiler/chunk.ts). */
export function compile(spec: TrainingSpec, options: CompileOptions): Compiled {
  const batch = options.batch ?? spec.train.batch_size;
  const limits = deviceLimits(options.target, spec.train.memory_budget);
  const precision = options.precision ?? spec.train.precision ?? 'f32';
  const at = (chunk?: number, b = batch) => compilePhase({ ...pretrainPhase(spec, b, options.keepGrads, chunk), precision }, options.target, options);
  const { compiled, plan } = fitStep(batch, spec.augment.size, limits, options.chunk ?? spec.train.chunk, at);
  return plan ? { ...compiled, chunking: plan } : compiled;
}

/** The encoder's inference graph (features for evaluation), fused and lowered like a training step. */
export function compileFeatures(spec: ModelSpec, batch: number, target: Target): KernelGraph {
  return compilePhase(featuresPhase(spec, batch), target).kernels;
}

/**
 * One op as a graph of its own: inputs named in:0, in:1…, outputs out:0…; `dtypes` gives input
 * element types other than f32 (half-precision embeddings).
 */
export function opGraph(op: string, inputs: Shape[], attrs: Attrs, dtypes: (DType | undefined)[] = []): Graph {
  const g = new Graph();
  const ins = inputs.map((shape, k) => g.leaf('input', shape, op, { name: `in:${k}`, ...(dtypes[k] ? { dtype: dtypes[k] } : {}) }));
  g.add(op, ins, attrs, op).forEach((t, k) => g.outputs.set(`out:${k}`, t.id));
  return g;
}

/**
 * One op as a kernel graph, for running it alone (kernel tests, benches) on the executor of every
 * graph; an in-place output shares its input's buffer.
 */
export function compileOp(op: string, inputs: Shape[], attrs: Attrs, target: Target, dtypes: (DType | undefined)[] = []): KernelGraph {
  return lower(opGraph(op, inputs, attrs, dtypes), target);
}
