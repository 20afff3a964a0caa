// Losses are rows, like ops: each names the graph inputs it reads besides the network's output
// (labels, a teacher's logits) and appends the nodes that turn them into one scalar. A phase names
// its loss by `type`; the model builder knows none of them.
import type { Attrs, DType, Shape } from '../../kernels/op.js';
import type { Graph, Tensor } from '../graph.js';

/** A graph input a loss reads, fed per step like the views (`labels`, `teacher_logits`). */
export interface LossInput {
  name: string;
  shape: Shape;
  dtype?: DType;
}

export interface LossDef<A extends Attrs = Attrs> {
  name: string;
  /** Inputs beyond the network's output, given that output's shape. */
  inputs?(output: Shape, attrs: A): LossInput[];
  /** Appends the loss over `output` (and the inputs, in `inputs`' order); returns the scalar. */
  build(g: Graph, output: Tensor, inputs: Tensor[], attrs: A): Tensor;
}

const registry = new Map<string, LossDef>();

export function defineLoss<A extends Attrs>(def: LossDef<A>): LossDef<A> {
  if (registry.has(def.name)) throw new Error(`loss ${def.name} is defined twice`);
  registry.set(def.name, def as unknown as LossDef);
  return def;
}

export function getLoss(name: string): LossDef {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown loss ${name}; known: ${[...registry.keys()].sort().join(', ')}`);
  return def;
}
