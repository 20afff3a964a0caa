// Optimizer updates as graph nodes: one update op per parameter, writing the parameter and its
// moments in place, appended after the backward pass so every read of the old weight comes first.
import { STEP_DEFAULTS, type Attrs, type StepScalars } from '../kernels/op.js';
import type { OptimizerSpec as SpecOptimizer } from '../spec/types.js';
import { scaledLr } from './lr-scaling.js';
import type { Graph, Tensor } from './graph.js';

/**
 * The resolved spec's optimizer with its peak learning rate (already scaled for the batch); the
 * schedule sets each step's rate from it. Every hyper-parameter is present: the schema's defaults
 * (grammar/simclr.schema.json) are the only ones, so nothing here restates them.
 */
export type OptimizerSpec = Omit<SpecOptimizer, 'lr_scaling'>;

/**
 * The resolved spec's optimizer for a batch of `batch` images per view, with the peak learning rate
 * (google-research/simclr's scaling: linear lr·bs/256, sqrt lr·√bs); schedules scale it per step.
 */
export function optimizerFor(o: SpecOptimizer, batch: number): OptimizerSpec {
  const { lr_scaling, ...rest } = o;
  return { ...rest, lr: scaledLr(o.lr, lr_scaling, batch) };
}

interface Rule {
  op: string;
  /** Moment buffers, each the parameter's shape, starting at zero. */
  moments: string[];
  attrs(o: OptimizerSpec, p: Tensor): Attrs;
}

/** BatchNorm parameters and biases, which `exclude_bn_and_bias` leaves out of decay (and LARS's trust ratio). */
const excluded = (o: OptimizerSpec, p: Tensor) => o.exclude_bn_and_bias && p.kind !== 'weight';

const RULES: Record<OptimizerSpec['type'], Rule> = {
  sgd: {
    op: 'sgd_update',
    moments: ['momentum'],
    attrs: (o, p) => ({ momentum: o.momentum, weight_decay: o.weight_decay, exclude: excluded(o, p) }),
  },
  adamw: {
    op: 'adamw_update',
    moments: ['exp_avg', 'exp_avg_sq'],
    attrs: (o, p) => ({ betas: o.betas, eps: o.eps, weight_decay: o.weight_decay, exclude: excluded(o, p) }),
  },
  lars: {
    op: 'lars_update',
    moments: ['momentum'],
    attrs: (o, p) => ({ momentum: o.momentum, weight_decay: o.weight_decay, eeta: o.eeta, exclude: excluded(o, p) }),
  },
};

/**
 * Appends the update of every parameter; the updated values are outputs named like the params.
 * With `found` (loss scaling's found-inf flag) each update is skipped on a step whose gradients overflowed.
 */
export function appendUpdate(g: Graph, params: Tensor[], grads: Map<number, Tensor>, o: OptimizerSpec, found?: Tensor): void {
  const rule = RULES[o.type];
  for (const p of params) {
    const moments = rule.moments.map((m) => g.leaf('state', p.shape, p.path, { name: `${p.name}.${m}`, fill: 0 }));
    const guard = found ? { inputs: [found], attrs: { guarded: true } } : { inputs: [], attrs: {} };
    const outs = g.add(rule.op, [p, grads.get(p.id)!, ...moments, ...guard.inputs], { ...rule.attrs(o, p), ...guard.attrs }, p.path, 'update');
    g.outputs.set(p.name!, outs[0].id);
    moments.forEach((m, k) => g.outputs.set(m.name!, outs[k + 1].id));
  }
}

/**
 * The per-step scalars of update `step` (1-based) at learning rate `lr`: AdamW's bias corrections
 * 1 − βᵗ are computed here in float64, since in float32 on the device 1 − 0.999ᵗ loses digits.
 */
export function stepScalars(o: Pick<OptimizerSpec, 'type' | 'betas'>, step: number, lr: number, seed = 0): StepScalars {
  const [b1, b2] = o.type === 'adamw' ? o.betas : [0, 0];
  return { ...STEP_DEFAULTS, lr, step, seed, bias1: 1 - b1 ** step, bias2: 1 - b2 ** step };
}
