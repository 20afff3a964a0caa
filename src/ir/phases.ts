// The phases a run is made of, each built from the resolved spec: contrastive pre-training and the
// encoder's inference pass (features for kNN and the probe). Later phases join them here.
import type { ModelSpec } from './model-spec.js';
import type { OptimizerSpec } from './optimizer.js';
import type { PhaseSpec } from './phase.js';

/** SimCLR pre-training: encoder → projection head → InfoNCE over 2·batch stacked views. */
export function pretrainPhase(spec: ModelSpec & { optimizer?: OptimizerSpec }, batch: number, keepGrads = false): PhaseSpec {
  const size = spec.augment.size;
  return {
    name: 'pretrain',
    input: { name: 'views', shape: [2 * batch, spec.encoder.in_channels, size, size] },
    network: { encoder: spec.encoder, head: { projector: spec.projector } },
    loss: { type: 'infonce', attrs: { temperature: spec.loss.temperature } },
    optimizer: spec.optimizer,
    mode: 'train',
    checkpoint: spec.encoder.checkpoint,
    keepGrads,
  };
}

/** The encoder alone, BatchNorm from running statistics: its pooled output is 'features'. */
export function featuresPhase(spec: ModelSpec, batch: number): PhaseSpec {
  const size = spec.augment.size;
  return {
    name: 'features',
    input: { name: 'images', shape: [batch, spec.encoder.in_channels, size, size] },
    network: { encoder: spec.encoder },
    mode: 'eval',
  };
}

/**
 * The linear probe: a linear classifier (zero-initialised) over standardised frozen features, mean
 * softmax cross-entropy against `labels`, SGD with momentum and L2 decay on the weights, not the bias.
 */
export function linearProbePhase(dim: number, classes: number, batch: number, o: { lr: number; momentum: number; weight_decay: number }): PhaseSpec {
  return {
    name: 'linear_probe',
    input: { name: 'features', shape: [batch, dim] },
    network: { classifier: { classes, zeroInit: true } },
    loss: { type: 'cross_entropy', attrs: {} },
    optimizer: { type: 'sgd', lr: o.lr, momentum: o.momentum, weight_decay: o.weight_decay, no_decay: ['bias'] },
    mode: 'train',
  };
}

/** The probe's classifier alone: the 'logits' of a batch of standardised features. */
export function probeLogitsPhase(dim: number, classes: number, batch: number): PhaseSpec {
  return { name: 'probe_logits', input: { name: 'features', shape: [batch, dim] }, network: { classifier: { classes } }, mode: 'eval' };
}
