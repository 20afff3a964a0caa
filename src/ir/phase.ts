// A phase is one compiled program of a run: contrastive pre-training, the linear probe, fine-tuning,
// distillation, or an inference pass (features, logits). It says which network (encoder, the head up
// to a layer, a classifier), which loss row, which parameters train and which stay frozen, and which
// optimizer updates them. `buildPhase` turns it into one graph: augment → forward → loss → backward
// → update.
import type { AugmentAttrs } from '../kernels/augment.js';
import { paramLayout } from '../kernels/augment/params.js';
import type { Attrs, DType, Shape } from '../kernels/op.js';
import { appendBackward } from './autodiff.js';
import { Builder, type NetworkSpec } from './build.js';
import { checkpointSegments } from './checkpoint.js';
import { buildChunkedForward, isChunked, recomputeChunks } from './chunk.js';
import { Graph, pruned, type Stage, type Tensor } from './graph.js';
import { guardRunningStats, scaledSeed, unscaleGrads } from './loss-scale.js';
import { getLoss } from './losses/index.js';
import { appendUpdate, type OptimizerSpec } from './optimizer.js';

export interface PhaseInput {
  /** The graph input's name: 'source' (images to augment), 'views' (2N stacked views), 'images', 'features'. */
  name: string;
  shape: Shape;
  dtype?: DType;
}

export interface PhaseSpec {
  name: string;
  input: PhaseInput;
  /** Views made from the input on the device before the network reads them (outputs 'views', 'records'). */
  augment?: AugmentAttrs;
  /** Absent: the phase is the augmentation alone (previews, benches). */
  network?: NetworkSpec;
  /** Training phases: the loss row and its attributes, the optimizer, and what stays fixed. */
  loss?: { type: string; attrs: Attrs };
  optimizer?: OptimizerSpec;
  /** Parameter name prefixes that do not train ('encoder.'): read, never updated. */
  frozen?: string[];
  /** BatchNorm from batch statistics ('train', updating running stats) or from running stats. */
  mode: 'train' | 'eval';
  /** Recompute each encoder layer in the backward pass instead of keeping its activations. */
  checkpoint?: boolean;
  /** Keep each trained parameter's gradient as an output `grad:NAME` (for checks; costs memory). */
  keepGrads?: boolean;
  /**
   * Images per chunk of a training step over stacked views (src/ir/chunk.ts); absent or at least
   * the batch: the step runs in one pass. A chunked step recomputes chunks instead of checkpointing
   * layers: its backward already holds one chunk's activations at a time.
   */
  chunk?: number;
  /**
   * f16: activations kept for the backward pass are stored in f16 (src/compiler/precision.ts) and
   * the loss is scaled dynamically so small gradients survive (src/ir/loss-scale.ts).
   */
  precision?: 'f32' | 'f16';
}

export interface PhaseGraph {
  graph: Graph;
  input: Tensor;
  output: Tensor;
  /** Every parameter the network reads; `trained` are the ones the update writes. */
  params: Tensor[];
  trained: Tensor[];
  loss?: Tensor;
}

/** The phase's input leaf. */
export function phaseInput(g: Graph, p: PhaseSpec): Tensor {
  return g.leaf('input', p.input.shape, 'data', { name: p.input.name, ...(p.input.dtype ? { dtype: p.input.dtype } : {}) });
}

/**
 * The phase's input and, when it augments, the augment node that makes the views from it (fixed
 * parameters instead of draws when `given`: the records are then a second input).
 */
export function phaseHead(g: Graph, p: PhaseSpec): { input: Tensor; views: Tensor } {
  const input = phaseInput(g, p);
  if (!p.augment) return { input, views: input };
  const rows = p.augment.views.length * p.input.shape[0];
  const given = p.augment.given ? [g.leaf('input', [rows, paramLayout(p.augment.views).stride], 'data', { name: 'records' })] : [];
  const [views, records] = g.add('augment', [input, ...given], p.augment, 'augment', p.loss || !p.network ? 'augment' : 'eval');
  g.outputs.set('views', views.id);
  if (records) g.outputs.set('records', records.id);
  return { input, views };
}

/**
 * The phase's forward program and its loss, not yet differentiated. A phase without a loss is
 * inference: every node is in the 'eval' stage (an augmentation heading an inference network too),
 * and the network's output is named for what it is ('features', 'z' or 'logits').
 */
export function buildForward(p: PhaseSpec): PhaseGraph {
  const g = new Graph();
  const stage: Stage = p.loss ? 'forward' : 'eval';
  const { input, views } = phaseHead(g, p);
  if (!p.network) return { graph: g, input, output: views, params: [], trained: [] };
  const b = new Builder(g, p.mode, stage);
  const output = b.network(views, p.network);
  for (const [name, t] of Object.entries(b.named)) g.outputs.set(name, t.id);
  const frozen = p.frozen ?? [];
  const trained = p.loss ? b.params.filter((t) => !frozen.some((prefix) => t.name!.startsWith(prefix))) : [];
  if (!p.loss) return { graph: g, input, output, params: b.params, trained };
  const row = getLoss(p.loss.type);
  const extra = (row.inputs?.(output.shape, p.loss.attrs) ?? []).map((i) =>
    g.leaf('input', i.shape, 'data', { name: i.name, ...(i.dtype ? { dtype: i.dtype } : {}) }),
  );
  const loss = row.build(g, output, extra, p.loss.attrs);
  g.outputs.set('loss', loss.id);
  return { graph: g, input, output, params: b.params, trained, loss };
}

/** The phase's whole program: forward → loss → backward → update (or the inference pass alone). */
export function buildPhase(p: PhaseSpec): PhaseGraph {
  const chunked = isChunked(p);
  const built = chunked ? buildChunkedForward(p) : buildForward(p);
  const { loss, trained } = built;
  let g = built.graph;
  if (!loss) return { ...built, graph: pruned(g) };
  if (!p.optimizer) throw new Error(`phase ${p.name}: a loss needs an optimizer`);
  const scaled = p.precision === 'f16' ? scaledSeed(g, loss) : undefined;
  const raw = appendBackward(g, loss, trained, scaled?.seed);
  const { grads, found } = scaled ? unscaleGrads(g, scaled, trained, raw) : { grads: raw, found: undefined };
  if (found) g = guardRunningStats(g, found);
  if (p.keepGrads) for (const t of trained) g.outputs.set(`grad:${t.name}`, grads.get(t.id)!.id);
  appendUpdate(g, trained, grads, p.optimizer, found);
  const rewritten = chunked ? recomputeChunks(g) : p.checkpoint ? checkpointSegments(g, 'encoder.layers') : g;
  return { ...built, graph: pruned(rewritten) };
}
