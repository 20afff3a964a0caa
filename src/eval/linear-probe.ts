// Linear probe: multinomial logistic regression (softmax, cross-entropy, L2 on the weights) on frozen
// features, trained with minibatch SGD + momentum and a cosine-decayed rate. Training runs on the
// device, one minibatch per submit (forward + softmax gradient, then gradient + momentum update);
// `trainProbe` is the same algorithm on the CPU, the reference the device path is tested against.
import { mixSeed, permutation, Rng } from '../data/rng.js';
import type { Runtime } from '../gpu/runtime.js';
import { ceilDiv } from '../kernels/op.js';
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

const WG = 64;

/**
 * One row per invocation: logits (weights hold C rows of D weights then the bias), log-sum-exp,
 * the row's cross-entropy added to its slot of `loss`, and δ = (softmax − onehot) / B in place of
 * the logits.
 */
const FORWARD = /* wgsl */ `
struct P { b: u32, d: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= p.b) { return; }
  let stride = p.d + 1u;
  var top = -3.0e38;
  for (var c = 0u; c < p.c; c++) {
    var z = w[c * stride + p.d];
    for (var j = 0u; j < p.d; j++) { z = fma(w[c * stride + j], x[i * p.d + j], z); }
    delta[i * p.c + c] = z;
    top = max(top, z);
  }
  var sum = 0.0;
  for (var c = 0u; c < p.c; c++) { sum += exp(delta[i * p.c + c] - top); }
  let label = labels[i];
  loss[i] += top + log(sum) - delta[i * p.c + label];
  for (var c = 0u; c < p.c; c++) {
    let hit = select(0.0, 1.0, c == label);
    delta[i * p.c + c] = (exp(delta[i * p.c + c] - top) / sum - hit) / f32(p.b);
  }
}`;

/**
 * One weight per invocation: g = Σᵢ δᵢ꜀·xᵢⱼ (+ λw off the bias column), v = m·v + g, w −= lr·v. The
 * invocations of a workgroup share the class and read neighbouring features.
 */
const UPDATE = /* wgsl */ `
struct P { b: u32, d: u32, c: u32, lambda: f32, momentum: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> delta: array<f32>;
@group(0) @binding(3) var<storage, read> lr: array<f32>;
@group(0) @binding(4) var<storage, read_write> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let j = id.x;
  let c = id.y;
  if (j > p.d) { return; }
  var g = 0.0;
  if (j < p.d) {
    for (var i = 0u; i < p.b; i++) { g = fma(delta[i * p.c + c], x[i * p.d + j], g); }
  } else {
    for (var i = 0u; i < p.b; i++) { g += delta[i * p.c + c]; }
  }
  let k = c * (p.d + 1u) + j;
  if (j < p.d) { g = fma(p.lambda, w[k], g); }
  v[k] = fma(p.momentum, v[k], g);
  w[k] -= lr[0] * v[k];
}`;

/** The device trainer: the CPU trainer's algorithm, order and rates, with the arithmetic on the device. */
export async function trainProbeOnDevice(rt: Runtime, train: Features, opts: ProbeOptions): Promise<{ probe: Probe; losses: number[] }> {
  const { classes, epochs, weightDecay, momentum, dim, count, mean, invStd, batch, stepsPerEpoch, x, order, rate } = plan(train, opts);
  const [forward, update] = await Promise.all([rt.pipeline(FORWARD, 'probe_forward'), rt.pipeline(UPDATE, 'probe_update')]);
  const wBuf = rt.buffer(classes * (dim + 1) * 4, 'probe weights');
  const buffers = [
    wBuf,
    rt.buffer(classes * (dim + 1) * 4, 'probe momentum'),
    rt.buffer(batch * dim * 4, 'probe batch'),
    rt.buffer(batch * 4, 'probe labels'),
    rt.buffer(batch * classes * 4, 'probe delta'),
    rt.buffer(batch * 4, 'probe loss'),
    rt.buffer(4, 'probe lr'),
  ];
  const [, vBuf, xBuf, labelBuf, deltaBuf, lossBuf, lrBuf] = buffers;
  rt.write(wBuf, new Float32Array(classes * (dim + 1)));
  rt.write(vBuf, new Float32Array(classes * (dim + 1)));
  const params = new Map<number, GPUBuffer[]>();
  const paramsFor = (rows: number) => {
    if (!params.has(rows)) {
      params.set(rows, [
        rt.uniform([rows, dim, classes], 'u32', 'probe_forward'),
        rt.uniform([rows, dim, classes, weightDecay, momentum], ['u32', 'u32', 'u32', 'f32', 'f32'], 'probe_update'),
      ]);
    }
    return params.get(rows)!;
  };
  const xRows = new Float32Array(batch * dim);
  const labelRows = new Uint32Array(batch);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const visit = order(epoch);
      rt.write(lossBuf, new Float32Array(batch));
      for (let s = 0; s < stepsPerEpoch; s++) {
        const rows = visit.subarray(s * batch, Math.min(count, (s + 1) * batch));
        rows.forEach((row, i) => {
          xRows.set(x.subarray(row * dim, (row + 1) * dim), i * dim);
          labelRows[i] = train.labels[row];
        });
        // Each step's writes must follow the previous step's work on the queue: submit per step.
        rt.write(xBuf, xRows.subarray(0, rows.length * dim));
        rt.write(labelBuf, labelRows.subarray(0, rows.length));
        rt.write(lrBuf, Float32Array.of(rate(epoch * stepsPerEpoch + s)));
        const [fp, up] = paramsFor(rows.length);
        rt.dispatch({ pipeline: forward, bindings: [fp, xBuf, labelBuf, wBuf, deltaBuf, lossBuf], groups: [ceilDiv(rows.length, WG)] });
        rt.dispatch({ pipeline: update, bindings: [up, xBuf, deltaBuf, lrBuf, wBuf, vBuf], groups: [ceilDiv(dim + 1, WG), classes] });
        rt.submit();
      }
      const rowLosses = await rt.readF32(lossBuf, batch);
      losses.push(rowLosses.reduce((a, b) => a + b, 0) / count);
    }
    const packed = await rt.readF32(wBuf, classes * (dim + 1));
    const weights = new Float32Array(classes * dim);
    const bias = new Float32Array(classes);
    for (let c = 0; c < classes; c++) {
      weights.set(packed.subarray(c * (dim + 1), c * (dim + 1) + dim), c * dim);
      bias[c] = packed[c * (dim + 1) + dim];
    }
    return { probe: { weights, bias, mean, invStd, classes, dim }, losses };
  } finally {
    for (const b of [...buffers, ...[...params.values()].flat()]) b.destroy();
  }
}

export function probePredict(probe: Probe, f: Features): Int32Array {
  const x = standardise(f, probe.mean, probe.invStd);
  const out = new Int32Array(f.count);
  for (let n = 0; n < f.count; n++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < probe.classes; c++) {
      let z = probe.bias[c];
      for (let j = 0; j < f.dim; j++) z += probe.weights[c * f.dim + j] * x[n * f.dim + j];
      if (z > bestScore) [best, bestScore] = [c, z];
    }
    out[n] = best;
  }
  return out;
}

/** Trains on `train` on the device, reports top-1 accuracy on `test`. */
export async function linearProbe(rt: Runtime, train: Features, test: Features, opts: ProbeOptions): Promise<ProbeResult> {
  if (train.dim !== test.dim) throw new RangeError(`linear probe: train features have dimension ${train.dim}, test features ${test.dim}`);
  const { probe, losses } = await trainProbeOnDevice(rt, train, opts);
  const predictions = probePredict(probe, test);
  let right = 0;
  for (let n = 0; n < test.count; n++) if (predictions[n] === test.labels[n]) right++;
  return { top1: right / test.count, losses, probe };
}
