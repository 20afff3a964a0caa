// The whole pipeline from a resolved spec to a kernel graph, one call per stage.
import type { Target } from '../kernels/op.js';
import '../kernels/index.js';
import { appendBackward } from '../ir/autodiff.js';
import { buildFeatures, buildModel } from '../ir/build.js';
import { checkpointSegments } from '../ir/checkpoint.js';
import { pruned, type Graph } from '../ir/graph.js';
import type { ModelSpec } from '../ir/model-spec.js';
import { appendUpdate, type OptimizerSpec } from '../ir/optimizer.js';
import { fuse } from './fuse.js';
import type { KernelGraph } from './kernel-graph.js';
import { lower } from './lower.js';
import { scheduleUpdates } from './schedule.js';

export interface TrainingSpec extends ModelSpec {
  optimizer: OptimizerSpec;
  train: { batch_size: number };
}

export interface CompileOptions {
  target: Target;
  /** Images per view (the spec's train.batch_size by default). */
  batch?: number;
  /** Fusion on by default; off gives one kernel per graph node (for comparison and debugging). */
  fuse?: boolean;
  /** Keep every parameter's gradient as an output named `grad:NAME` (for checking, costs memory). */
  keepGrads?: boolean;
}

export interface Compiled {
  /** Forward, backward and update nodes before fusion. */
  graph: Graph;
  /** The graph after fusion: one node per kernel, in kernel order. */
  lowered: Graph;
  kernels: KernelGraph;
}

/** Training step graph: forward, gradients of every parameter, optimizer updates. */
export function stepGraph(spec: TrainingSpec, batch: number, keepGrads = false): Graph {
  const model = buildModel(spec, batch);
  const grads = appendBackward(model.graph, model.loss, model.params);
  if (keepGrads) for (const p of model.params) model.graph.outputs.set(`grad:${p.name}`, grads.get(p.id)!.id);
  appendUpdate(model.graph, model.params, grads, spec.optimizer);
  return pruned(spec.encoder.checkpoint ? checkpointSegments(model.graph, 'encoder.layers') : model.graph);
}

export function compile(spec: TrainingSpec, options: CompileOptions): Compiled {
  const graph = stepGraph(spec, options.batch ?? spec.train.batch_size, options.keepGrads);
  const scheduled = scheduleUpdates(graph);
  const lowered = options.fuse === false ? scheduled : fuse(scheduled, options.target);
  return { graph, lowered, kernels: lower(lowered, options.target) };
}

/** The encoder's inference graph (features for evaluation), fused and lowered like a training step. */
export function compileFeatures(spec: ModelSpec, batch: number, target: Target): KernelGraph {
  return lower(fuse(pruned(buildFeatures(spec, batch)), target), target);
}
