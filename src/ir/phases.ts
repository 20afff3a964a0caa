// The phases a run is made of, each built from the resolved spec: contrastive pre-training and the
// encoder's inference pass (features for kNN and the probe). Later phases join them here.
import type { AugmentAttrs } from '../kernels/augment.js';
import type { AugOp } from '../kernels/augment/types.js';
import type { ModelSpec } from './model-spec.js';
import type { OptimizerSpec } from './optimizer.js';
import type { PhaseInput, PhaseSpec } from './phase.js';

/** The data set's images as loaded (image_size × image_size, data.channels), uint8 on the device. */
function sourceOf(spec: ModelSpec, batch: number, name: string): { input: PhaseInput; source: AugmentAttrs['source'] } {
  const side = spec.data?.image_size ?? spec.augment.size;
  const channels = (spec.data?.channels ?? spec.encoder.in_channels) as 1 | 3;
  return {
    input: { name, shape: [batch, channels, side, side], dtype: 'u8' },
    source: { channels, height: side, width: side, dtype: 'uint8' },
  };
}

/**
 * SimCLR pre-training: augment → encoder → projection head → InfoNCE over 2·batch stacked views.
 * A spec without augmentation ops (the golden tests) is fed its 'views' directly.
 */
export function pretrainPhase(spec: ModelSpec & { optimizer?: OptimizerSpec }, batch: number, keepGrads = false, chunk?: number): PhaseSpec {
  const size = spec.augment.size;
  const ops = spec.augment.views;
  const fed = { input: { name: 'views', shape: [2 * batch, spec.encoder.in_channels, size, size] } };
  const head = ops ? augmented(spec, batch, 'source', ops) : fed;
  return {
    name: 'pretrain',
    ...head,
    network: { encoder: spec.encoder, head: { projector: spec.projector } },
    loss: { type: 'infonce', attrs: { temperature: spec.loss.temperature } },
    optimizer: spec.optimizer,
    mode: 'train',
    checkpoint: spec.encoder.checkpoint,
    keepGrads,
    ...(chunk !== undefined ? { chunk } : {}),
  };
}

/**
 * The encoder alone, BatchNorm from running statistics: its pooled output is 'features'. With an
 * augmentation, its head is one view of only the normalisation: evaluation sees whole images,
 * resized to the view size, as the papers' kNN monitor does.
 */
export function featuresPhase(spec: ModelSpec, batch: number): PhaseSpec {
  const size = spec.augment.size;
  const ops = spec.augment.views;
  const fed = { input: { name: 'images', shape: [batch, spec.encoder.in_channels, size, size] } };
  const normalize = ops?.[0].filter((op) => op.op === 'normalize');
  const head = normalize ? augmented(spec, batch, 'images', [normalize]) : fed;
  return { name: 'features', ...head, network: { encoder: spec.encoder }, mode: 'eval' };
}

function augmented(spec: ModelSpec, batch: number, name: string, views: AugOp[][]): Pick<PhaseSpec, 'input' | 'augment'> {
  const { input, source } = sourceOf(spec, batch, name);
  return { input, augment: { size: spec.augment.size, views, source } };
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
    // Only the weight is decayed: exclude_bn_and_bias leaves the classifier's bias out.
    optimizer: { type: 'sgd', lr: o.lr, momentum: o.momentum, weight_decay: o.weight_decay, exclude_bn_and_bias: true, eeta: 0, betas: [0, 0], eps: 0 },
    mode: 'train',
  };
}

/** The probe's classifier alone: the 'logits' of a batch of standardised features. */
export function probeLogitsPhase(dim: number, classes: number, batch: number): PhaseSpec {
  return { name: 'probe_logits', input: { name: 'features', shape: [batch, dim] }, network: { classifier: { classes } }, mode: 'eval' };
}

/** SimCLR v2 fine-tuning and distillation: momentum SGD or LARS, no weight decay, no warmup. */
export interface SupervisedOptions {
  type: 'sgd' | 'lars';
  lr: number;
  momentum: number;
}

function supervisedOptimizer(o: SupervisedOptions): OptimizerSpec {
  return { type: o.type, lr: o.lr, momentum: o.momentum, weight_decay: 0, exclude_bn_and_bias: true, eeta: 0.001, betas: [0, 0], eps: 0 };
}

/**
 * The training images of a supervised phase, one view each: as google-research/simclr fine-tunes,
 * the spec's crop and flip then its normalisation, without colour distortion. A spec without
 * augmentation ops (the golden tests) is fed float 'images' directly.
 */
function labelledImages(spec: ModelSpec, batch: number, given = false): Pick<PhaseSpec, 'input' | 'augment'> {
  const size = spec.augment.size;
  const ops = spec.augment.views?.[0].filter((op) => op.op === 'random_resized_crop' || op.op === 'flip' || op.op === 'normalize');
  if (!ops) return { input: { name: 'images', shape: [batch, spec.encoder.in_channels, size, size] } };
  const head = augmented(spec, batch, 'images', [ops]);
  return given ? { ...head, augment: { ...head.augment!, given: true } } : head;
}

/**
 * SimCLR v2 fine-tuning: the encoder, the projection head up to layer `fromLayer` (0: the encoder's
 * output) and a new linear classifier (zero-initialised, as zero_init_logits_layer), all trainable,
 * BatchNorm in training mode, cross-entropy against `labels`.
 */
export function finetunePhase(spec: ModelSpec, batch: number, classes: number, o: SupervisedOptions & { fromLayer: number; zeroInit?: boolean }, keepGrads = false): PhaseSpec {
  // `check` reports this as E0308; phases built outside a spec (tests, benches) get it here.
  if (o.fromLayer > spec.projector.layers - 1) throw new Error(`from_layer ${o.fromLayer} is beyond the head's ${spec.projector.layers - 1} hidden layers`);
  return {
    name: 'finetune',
    ...labelledImages(spec, batch),
    network: { encoder: spec.encoder, head: { projector: spec.projector, upTo: o.fromLayer }, classifier: { classes, zeroInit: o.zeroInit ?? true } },
    loss: { type: 'cross_entropy', attrs: {} },
    optimizer: supervisedOptimizer(o),
    mode: 'train',
    checkpoint: spec.encoder.checkpoint,
    keepGrads,
  };
}

/**
 * A fine-tuned network's logits, BatchNorm from running statistics: evaluation (whole images, only
 * normalised) or, with `augment`, a distillation teacher on augmented images, whose draws ('records')
 * the student's step then replays so both see the same views.
 */
export function classifierLogitsPhase(spec: ModelSpec, batch: number, classes: number, fromLayer: number, augment = false): PhaseSpec {
  const size = spec.augment.size;
  const normalize = spec.augment.views?.[0].filter((op) => op.op === 'normalize');
  const head = augment ? labelledImages(spec, batch) : normalize ? augmented(spec, batch, 'images', [normalize]) : { input: { name: 'images', shape: [batch, spec.encoder.in_channels, size, size] } };
  return {
    name: 'classifier_logits',
    ...head,
    network: { encoder: spec.encoder, head: { projector: spec.projector, upTo: fromLayer }, classifier: { classes } },
    mode: 'eval',
  };
}

/**
 * SimCLR v2 distillation into `student` (an encoder with its own classifier on its output): the `kd`
 * row against the fed `teacher_logits` (and `labels` when α < 1), the student in training mode. With
 * `replay` the augmentation reads the teacher's records instead of drawing its own.
 */
export function distillPhase(student: ModelSpec, batch: number, classes: number, o: SupervisedOptions & { temperature: number; alpha: number; replay?: boolean }, keepGrads = false): PhaseSpec {
  return {
    name: 'distill',
    ...labelledImages(student, batch, o.replay),
    network: { encoder: student.encoder, classifier: { classes } },
    loss: { type: 'kd', attrs: { temperature: o.temperature, alpha: o.alpha } },
    optimizer: supervisedOptimizer(o),
    mode: 'train',
    checkpoint: student.encoder.checkpoint,
    keepGrads,
  };
}
