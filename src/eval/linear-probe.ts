// Linear probe: multinomial logistic regression (softmax, cross-entropy, L2 on the weights) on frozen
// features, standardised with the training set's statistics, trained with minibatch SGD + momentum
// and a cosine-decayed rate. On the device it is two compiled phases (src/ir/phases.ts): the
// linear_probe step, one minibatch per submit, and probe_logits for the predictions. `trainProbe` and
// `probePredict` are the same algorithm on the CPU, the references the device path is tested against.
import { compilePhase } from '../compiler/compile.js';
import { mixSeed, permutation, Rng } from '../data/rng.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import { stepScalars } from '../ir/optimizer.js';
import { linearProbePhase, probeLogitsPhase } from '../ir/phases.js';
import type { Features } from './knn.js';

export interface ProbeOptions {
  classes: number;
  epochs: number;
  lr: number;
  /** L2 penalty λ: the loss adds λ/2·‖W‖² (not on the bias). */
  weightDecay?: number;
  batchSize?: number;
  momentum?: number;
  seed?: number;
}

/** A trained probe: features are standardised with the training set's statistics first. */
export interface Probe {
  weights: Float32Array; // classes × dim
  bias: Float32Array; // classes
  mean: Float32Array;
  invStd: Float32Array;
  classes: number;
  dim: number;
}

export interface ProbeResult {
  top1: number;
  /** Mean training cross-entropy of each epoch (without the L2 term), as the weights moved during it. */
  losses: number[];
  probe: Probe;
}

export interface LossAndGrad {
  loss: number;
  /** The loss without the L2 term. */
  crossEntropy: number;
  gradWeights: Float32Array;
  gradBias: Float32Array;
}

/**
 * Mean cross-entropy of softmax(x·Wᵀ + b) over the given rows, plus λ/2·‖W‖², and its gradient:
 * ∂/∂W = (P − Y)ᵀX / B + λW, ∂/∂b = Σ(P − Y) / B. Sums are float64; inputs stay float32.
 */
export function probeLossAndGrad(
  weights: Float32Array,
  bias: Float32Array,
  x: Float32Array,
  labels: Int32Array,
  rows: ArrayLike<number>,
  dim: number,
  weightDecay: number,
): LossAndGrad {
  const classes = bias.length;
  const gradWeights = new Float32Array(classes * dim);
  const gradBias = new Float32Array(classes);
  const acc = new Float64Array(classes * dim);
  const logits = new Float64Array(classes);
  const batch = rows.length;
  let loss = 0;
  for (let i = 0; i < batch; i++) {
    const base = rows[i] * dim;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      let z = bias[c];
      const w = c * dim;
      for (let j = 0; j < dim; j++) z += weights[w + j] * x[base + j];
      logits[c] = z;
      max = Math.max(max, z);
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[c] - max);
    const label = labels[rows[i]];
    loss += max + Math.log(sum) - logits[label];
    for (let c = 0; c < classes; c++) {
      const delta = Math.exp(logits[c] - max) / sum - (c === label ? 1 : 0);
      gradBias[c] += delta / batch;
      const w = c * dim;
      for (let j = 0; j < dim; j++) acc[w + j] += delta * x[base + j];
    }
  }
  let penalty = 0;
  for (let i = 0; i < acc.length; i++) {
    gradWeights[i] = acc[i] / batch + weightDecay * weights[i];
    penalty += weights[i] * weights[i];
  }
  return { loss: loss / batch + 0.5 * weightDecay * penalty, crossEntropy: loss / batch, gradWeights, gradBias };
}

function standardiser(f: Features): { mean: Float32Array; invStd: Float32Array } {
  const mean = new Float64Array(f.dim);
  const sq = new Float64Array(f.dim);
  for (let n = 0; n < f.count; n++) {
    for (let j = 0; j < f.dim; j++) {
      const v = f.data[n * f.dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const invStd = new Float32Array(f.dim);
  for (let j = 0; j < f.dim; j++) {
    mean[j] /= f.count;
    invStd[j] = 1 / Math.sqrt(Math.max(sq[j] / f.count - mean[j] ** 2, 0) + 1e-6);
  }
  return { mean: Float32Array.from(mean), invStd };
}

function standardise(f: Features, mean: Float32Array, invStd: Float32Array): Float32Array {
  const out = new Float32Array(f.count * f.dim);
  for (let n = 0; n < f.count; n++) for (let j = 0; j < f.dim; j++) out[n * f.dim + j] = (f.data[n * f.dim + j] - mean[j]) * invStd[j];
  return out;
}

/** What both trainers share: settings with defaults, standardised features, the step plan. */
function plan(train: Features, opts: ProbeOptions) {
  const { classes, epochs, lr, weightDecay = 1e-4, batchSize = 256, momentum = 0.9, seed = 0 } = opts;
  const { dim, count } = train;
  const { mean, invStd } = standardiser(train);
  const batch = Math.min(batchSize, count);
  const stepsPerEpoch = Math.ceil(count / batch);
  const total = epochs * stepsPerEpoch;
  return {
    classes,
    epochs,
    weightDecay,
    momentum,
    dim,
    count,
    mean,
    invStd,
    batch,
    stepsPerEpoch,
    x: standardise(train, mean, invStd),
    order: (epoch: number) => permutation(count, new Rng(mixSeed(seed, epoch))),
    rate: (step: number) => lr * 0.5 * (1 + Math.cos((Math.PI * step) / total)),
  };
}

/** The CPU trainer: the reference for the device one. */
export function trainProbe(train: Features, opts: ProbeOptions): { probe: Probe; losses: number[] } {
  const { classes, epochs, weightDecay, momentum, dim, count, mean, invStd, batch, stepsPerEpoch, x, order, rate } = plan(train, opts);
  const weights = new Float32Array(classes * dim);
  const bias = new Float32Array(classes);
  const vW = new Float32Array(classes * dim);
  const vB = new Float32Array(classes);
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const visit = order(epoch);
    let sum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const rows = visit.subarray(s * batch, Math.min(count, (s + 1) * batch));
      const { crossEntropy, gradWeights, gradBias } = probeLossAndGrad(weights, bias, x, train.labels, rows, dim, weightDecay);
      sum += crossEntropy * rows.length;
      const lrNow = rate(epoch * stepsPerEpoch + s);
      for (let i = 0; i < weights.length; i++) {
        vW[i] = momentum * vW[i] + gradWeights[i];
        weights[i] -= lrNow * vW[i];
      }
      for (let c = 0; c < classes; c++) {
        vB[c] = momentum * vB[c] + gradBias[c];
        bias[c] -= lrNow * vB[c];
      }
    }
    losses.push(sum / count);
  }
  return { probe: { weights, bias, mean, invStd, classes, dim }, losses };
}

/** Logit rows the prediction pass takes per dispatch. */
const PREDICT_BATCH = 1024;

/**
 * The device trainer: the CPU trainer's algorithm, order and rates, as the compiled linear_probe
 * phase (linear → cross_entropy → autodiff → sgd_update). Its batch has a fixed shape: the last,
 * partial batch is padded with rows labelled −1, which the loss does not count.
 */
export async function trainProbeOnDevice(rt: Runtime, train: Features, opts: ProbeOptions): Promise<{ probe: Probe; losses: number[] }> {
  const { classes, epochs, weightDecay, momentum, dim, count, mean, invStd, batch, stepsPerEpoch, x, order, rate } = plan(train, opts);
  const phase = linearProbePhase(dim, classes, batch, { lr: opts.lr, momentum, weight_decay: weightDecay });
  const ex = await StepExecutor.create(rt, compilePhase(phase, rt.target).kernels);
  const xRows = new Float32Array(batch * dim);
  const labelRows = new Float32Array(batch);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const visit = order(epoch);
      const sums: Promise<number>[] = [];
      for (let s = 0; s < stepsPerEpoch; s++) {
        const rows = visit.subarray(s * batch, Math.min(count, (s + 1) * batch));
        xRows.fill(0);
        labelRows.fill(-1);
        rows.forEach((row, i) => {
          xRows.set(x.subarray(row * dim, (row + 1) * dim), i * dim);
          labelRows[i] = train.labels[row];
        });
        ex.write('features', xRows);
        ex.write('labels', labelRows);
        const step = epoch * stepsPerEpoch + s;
        ex.setStep(stepScalars(phase.optimizer!, step + 1, rate(step)));
        ex.record();
        // The read submits the step, so the next step's writes follow it on the queue; the losses are awaited once an epoch.
        sums.push(ex.read('loss').then(([loss]) => loss * rows.length));
      }
      losses.push((await Promise.all(sums)).reduce((a, b) => a + b, 0) / count);
    }
    const weights = await ex.read('classifier.weight');
    const bias = await ex.read('classifier.bias');
    return { probe: { weights, bias, mean, invStd, classes, dim }, losses };
  } finally {
    ex.destroy();
  }
}

/** Index of the largest value (the first of equals). */
function argmax(z: ArrayLike<number>, from: number, count: number): number {
  let best = 0;
  for (let c = 1; c < count; c++) if (z[from + c] > z[from + best]) best = c;
  return best;
}

/** The probe's classes on the device: the compiled probe_logits phase, argmax on the host. */
export async function predictOnDevice(rt: Runtime, probe: Probe, f: Features): Promise<Int32Array> {
  const { classes, dim } = probe;
  const batch = Math.min(PREDICT_BATCH, f.count);
  const initial = { 'classifier.weight': probe.weights, 'classifier.bias': probe.bias };
  const ex = await StepExecutor.create(rt, compilePhase(probeLogitsPhase(dim, classes, batch), rt.target).kernels, { initial });
  const x = standardise(f, probe.mean, probe.invStd);
  const chunk = new Float32Array(batch * dim);
  const out = new Int32Array(f.count);
  try {
    const reads: Promise<void>[] = [];
    for (let from = 0; from < f.count; from += batch) {
      const rows = Math.min(batch, f.count - from);
      chunk.fill(0).set(x.subarray(from * dim, (from + rows) * dim));
      ex.write('features', chunk);
      ex.record();
      reads.push(ex.read('logits').then((z) => {
        for (let r = 0; r < rows; r++) out[from + r] = argmax(z, r * classes, classes);
      }));
    }
    await Promise.all(reads);
  } finally {
    ex.destroy();
  }
  return out;
}

/** The CPU prediction in float64: the reference for predictOnDevice. */
export function probePredict(probe: Probe, f: Features): Int32Array {
  const x = standardise(f, probe.mean, probe.invStd);
  const out = new Int32Array(f.count);
  const z = new Float64Array(probe.classes);
  for (let n = 0; n < f.count; n++) {
    for (let c = 0; c < probe.classes; c++) {
      z[c] = probe.bias[c];
      for (let j = 0; j < f.dim; j++) z[c] += probe.weights[c * f.dim + j] * x[n * f.dim + j];
    }
    out[n] = argmax(z, 0, probe.classes);
  }
  return out;
}

/** Trains on `train` on the device, reports top-1 accuracy on `test`. */
export async function linearProbe(rt: Runtime, train: Features, test: Features, opts: ProbeOptions): Promise<ProbeResult> {
  if (train.dim !== test.dim) throw new RangeError(`linear probe: train features have dimension ${train.dim}, test features ${test.dim}`);
  const { probe, losses } = await trainProbeOnDevice(rt, train, opts);
  const predictions = await predictOnDevice(rt, probe, test);
  let right = 0;
  for (let n = 0; n < test.count; n++) if (predictions[n] === test.labels[n]) right++;
  return { top1: right / test.count, losses, probe };
}
