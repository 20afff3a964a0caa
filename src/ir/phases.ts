// The phases a run is made of, each built from the resolved spec: contrastive pre-training and the
// encoder's inference pass (features for kNN and the probe). Later phases join them here.
import type { ModelSpec } from './model-spec.js';
import type { OptimizerSpec } from './optimizer.js';
import type { PhaseSpec } from './phase.js';

/** SimCLR pre-training: encoder → projection head → InfoNCE over 2·batch stacked views. */
export function pretrainPhase(spec: ModelSpec & { optimizer?: OptimizerSpec }, batch: number, keepGrads = false, chunk?: number): PhaseSpec {
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
    ...(chunk !== undefined ? { chunk } : {}),
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
