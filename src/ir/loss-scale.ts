// The graph side of dynamic loss scaling (src/kernels/loss_scale.ts), for f16 phases: the backward
// pass is seeded with the scale; every parameter gradient is divided by it and checked into one
// found-inf flag before any update reads it; the updates are guarded by the flag; and the scale
// moves as GradScaler.update does. The scale and its clean-step count are named state tensors.
import { inOrder, type Graph, type Tensor } from './graph.js';

/** GradScaler's defaults: start at 2^16, halve on inf/NaN, double after 2,000 clean steps. */
export const LOSS_SCALE = { init: 2 ** 16, growth_interval: 2000, growth_factor: 2, backoff_factor: 0.5 };
/** Names of the scaler's state tensors (and outputs), as checkpoints and the trainer see them. */
export const LOSS_SCALE_NAMES = { scale: 'loss_scale', clean: 'loss_scale.clean_steps' };

export interface ScaledBackward {
  scale: Tensor;
  /** ∂(scale·loss)/∂loss: the backward pass's seed. */
  seed: Tensor;
}

export function scaledSeed(g: Graph, loss: Tensor): ScaledBackward {
  const scale = g.leaf('state', [1], 'train.precision', { name: LOSS_SCALE_NAMES.scale, fill: LOSS_SCALE.init });
  const [seed] = g.add('loss_scale_seed', [scale], {}, loss.path, 'backward');
  return { scale, seed };
}

/**
 * The unscaled gradients, and the flag the guarded updates read; appends the scale's update, which
 * runs after every reader of the old scale.
 */
export function unscaleGrads(g: Graph, { scale }: ScaledBackward, trained: Tensor[], grads: Map<number, Tensor>): { grads: Map<number, Tensor>; found: Tensor } {
  let [found] = g.add('found_inf_clear', [], {}, 'train.precision', 'backward');
  const out = new Map<number, Tensor>();
  for (const p of trained) {
    const [unscaled, flag] = g.add('unscale_grad', [grads.get(p.id)!, scale, found], {}, p.path, 'backward');
    out.set(p.id, unscaled);
    found = flag;
  }
  const clean = g.leaf('state', [1], 'train.precision', { name: LOSS_SCALE_NAMES.clean, fill: 0 });
  const { init: _init, ...attrs } = LOSS_SCALE;
  const [scale2, clean2] = g.add('loss_scale_update', [scale, clean, found], attrs, 'train.precision', 'update');
  g.outputs.set(LOSS_SCALE_NAMES.scale, scale2.id);
  g.outputs.set(LOSS_SCALE_NAMES.clean, clean2.id);
  return { grads: out, found };
}

/**
 * BatchNorm's running statistics are updated in place by the forward pass, before the flag is
 * known; a step the flag skips must leave them as it leaves the weights (a forward overflow would
 * write inf or NaN into them for good). Each is copied before the forward pass and put back in the
 * update stage when the flag is set. Returns the graph with the copies first, so they read the
 * statistics before any batchnorm overwrites them.
 */
export function guardRunningStats(g: Graph, found: Tensor): Graph {
  const copies = new Set<number>();
  for (const leaf of g.named('state')) {
    if (!/\.running_(mean|var)$/.test(leaf.name!)) continue;
    const out = g.outputs.get(leaf.name!);
    if (out === undefined || out === leaf.id) continue;
    const [saved] = g.add('keep_copy', [leaf], {}, 'train.precision', 'forward');
    copies.add(saved.producer!);
    const [restored] = g.add('restore_if_found', [g.tensors[out], saved, found], {}, 'train.precision', 'update');
    g.outputs.set(leaf.name!, restored.id);
  }
  if (!copies.size) return g;
  const order = [...g.nodes.filter((n) => copies.has(n.id)), ...g.nodes.filter((n) => !copies.has(n.id))];
  return inOrder(g, order);
}
