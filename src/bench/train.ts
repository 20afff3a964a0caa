// `bench train`: images/s of one SimCLR training step (forward, backward, optimizer update) of the
// stdlib small convnet with its projector and NT-Xent loss, compiled by this project and, in the same
// run on the same Dawn device, the same model and step in TensorFlow.js on webgpu, their steps
// interleaved. Both start from the same weights and see the same fixed views, so the first step's
// loss must agree: a faster number for a different function would be no comparison. Augmentation
// is left out on both sides.
// A third row runs the same step in PyTorch on this CPU (train_pytorch.py, `python3` with torch),
// from the same weights and views; where torch is missing the row says so instead of a number.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { compile } from '../compiler/compile.js';
import { StepExecutor } from '../gpu/executor.js';
import { runtime } from '../gpu/runtime.js';
import { optimizerFor, stepScalars } from '../ir/optimizer.js';
import { formatDiagnostic, loadSpecText, type ResolvedSpec } from '../spec/index.js';
import { measureInterleaved, round, type BenchSuite } from './measure.js';
import { loadTf, type Tf } from './tfjs.js';

const SPEC = `name: "bench-train"
encoder { use small_convnet }
loss { temperature: 0.1 }
optimizer: adamw { lr: 1e-3, weight_decay: 1e-4 }
train { batch_size: 256, steps: 1, seed: 0 }
`;

const SEED = 0;

// A type, not an interface, so a row is a Record<string, unknown> for the shared emit.
export type TrainRow = {
  bench: 'train';
  impl: 'simclr-compile' | 'tfjs-webgpu' | 'pytorch';
  batch: number;
  /** Storage precision of the compiled step's activations (TF.js and PyTorch: f32). */
  precision: 'f32' | 'f16';
  /** The compiled step's planned peak memory. */
  planned_mib?: number;
  /**
   * The compiled step's device memory as measured: the most bytes live at once in buffers the
   * runtime created from compiling the step to its last timed run (uniforms and read-back buffers
   * included), over what was live before.
   */
  measured_peak_mib?: number;
  images_per_s: number | null;
  median_ms: number | null;
  /** The loss of the first step, at the shared initial weights. */
  first_loss: number | null;
  /** Images per chunk and chunk count, when the compiled step runs in chunks (src/ir/chunk.ts). */
  chunk?: number;
  chunks?: number;
  /** Why a row has no numbers (PyTorch not installed). */
  note?: string;
};

export const IMPLS = ['simclr-compile', 'tfjs-webgpu', 'pytorch'] as const;

export interface TrainBenchOptions {
  /** Images per view; the step sees two views, 2·batch rows. */
  batch: number;
  repeats: number;
  /** f16: the f16 step is timed too, interleaved with the f32 one. */
  precision?: 'f32' | 'f16';
  /** Images per chunk of the compiled step; else the compiler chunks only a step that does not fit. */
  chunk?: number;
  /** The implementations to time (all by default); at large batches TF.js alone takes minutes a step. */
  impls?: readonly TrainRow['impl'][];
}

/** The bench's spec at `batch` images per view: the stdlib small convnet and the default projector. */
export function trainSpec(batch: number): ResolvedSpec {
  const loaded = loadSpecText(SPEC, 'bench-train.simclr', { set: [`train.batch_size=${batch}`] });
  if (!loaded.spec) throw new Error(`the bench spec does not load:\n${loaded.diagnostics.map((d) => formatDiagnostic(d)).join('\n')}`);
  return loaded.spec;
}

/** Fixed views in [-1, 1), [2·batch, 1, size, size] (an LCG: the bench needs the same data each run, not statistics). */
export function fixedViews(batch: number, size: number): Float32Array {
  let s = 2024;
  return Float32Array.from({ length: 2 * batch * size * size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

interface Side {
  /** One training step on the fixed views, waiting for its loss. */
  step(): Promise<number>;
  /** The peak device bytes measured so far (the compiled side only). */
  measuredBytes?(): number;
  dispose(): void;
}

async function compiledSide(spec: ResolvedSpec, batch: number, views: Float32Array, precision: 'f32' | 'f16', chunk?: number): Promise<{ side: Side; weights: Map<string, Float32Array>; plannedBytes: number; chunking?: { chunk: number; chunks: number } }> {
  const rt = await runtime();
  // Everything live now (another row's staging buffers) is the floor the step's peak is measured from.
  rt.resetPeak();
  const floor = rt.memory.liveBytes;
  const optimizer = optimizerFor(spec.optimizer, batch);
  // Without its augmentation ops the step is fed the fixed views, as the TF.js side is.
  const compiled = compile({ ...spec, augment: { size: spec.augment.size }, optimizer }, { target: rt.target, batch, precision, chunk });
  const executor = await StepExecutor.create(rt, compiled.kernels, { seed: SEED });
  executor.write('views', views);
  // A constant rate at AdamW's first-step bias corrections, as the TF.js side's optimizer starts.
  executor.setStep(stepScalars(optimizer, 1, optimizer.lr));
  const weights = new Map<string, Float32Array>();
  for (const b of executor.graph.buffers) if (b.kind === 'param' && b.name) weights.set(b.name, await executor.read(b.name));
  const side: Side = {
    async step() {
      executor.record();
      return (await executor.read('loss'))[0];
    },
    measuredBytes: () => rt.memory.peakBytes - floor,
    dispose: () => executor.destroy(),
  };
  const chunking = compiled.chunking && { chunk: compiled.chunking.chunk, chunks: compiled.chunking.chunks };
  return { side, weights, plannedBytes: compiled.kernels.memory.plannedBytes, chunking };
}

/**
 * The spec's encoder and projector as a tf.layers model on NHWC images, each layer named after the
 * parameter path it mirrors so the compiled side's weights can be copied in by name.
 */
function tfModel(tf: Tf, spec: ResolvedSpec): LayersModel {
  const size = spec.augment.size;
  const input = tf.input({ shape: [size, size, spec.encoder.in_channels] });
  let x: SymbolicTensor = input;
  spec.encoder.layers.forEach((layer, k) => {
    const name = `encoder.layers.${k}`;
    switch (layer.type) {
      case 'conv':
        if (layer.padding !== Math.floor(layer.kernel / 2) || layer.stride !== 1) throw new Error(`${name}: only stride-1 'same' convolutions have a tf.layers twin here`);
        x = tf.layers.conv2d({ name, filters: layer.out, kernelSize: layer.kernel, padding: 'same', useBias: layer.bias }).apply(x) as typeof x;
        break;
      case 'batchnorm':
        // Keras keeps `momentum` of the old running value; PyTorch's momentum is the new value's share.
        x = tf.layers.batchNormalization({ name, epsilon: layer.eps, momentum: 1 - layer.momentum }).apply(x) as typeof x;
        break;
      case 'relu':
        x = tf.layers.reLU().apply(x) as typeof x;
        break;
      case 'maxpool':
        if (layer.padding !== 0) throw new Error(`${name}: only unpadded max pooling has a tf.layers twin here`);
        x = tf.layers.maxPooling2d({ poolSize: layer.kernel, strides: layer.stride, padding: 'valid' }).apply(x) as typeof x;
        break;
      default:
        throw new Error(`${name}: a ${layer.type} layer has no tf.layers twin in this bench`);
    }
  });
  if (spec.encoder.pool !== 'cat_avg_max') throw new Error(`encoder.pool ${spec.encoder.pool}: the bench mirrors cat_avg_max only`);
  const avg = tf.layers.globalAveragePooling2d({}).apply(x) as typeof x;
  const max = tf.layers.globalMaxPooling2d({}).apply(x) as typeof x;
  let h = tf.layers.concatenate({ axis: -1 }).apply([avg, max]) as typeof x;
  const p = spec.projector;
  if (!p.batchnorm) throw new Error('the bench mirrors a projector with batchnorm only');
  let index = 0;
  for (let k = 0; k < p.layers - 1; k++) {
    h = tf.layers.dense({ name: `projector.${index++}`, units: p.hidden, useBias: false }).apply(h) as typeof x;
    // The compiled projector's BatchNorm has no spec fields: eps 1e-5 and PyTorch momentum 0.1.
    h = tf.layers.batchNormalization({ name: `projector.${index++}`, epsilon: 1e-5, momentum: 0.9 }).apply(h) as typeof x;
    h = tf.layers.reLU().apply(h) as typeof x;
    index++; // the relu's place in the compiled side's nn.Sequential numbering
  }
  const z = tf.layers.dense({ name: `projector.${index}`, units: p.out, useBias: true }).apply(h) as typeof x;
  return tf.model({ inputs: input, outputs: z });
}

/** Copies the compiled side's weights: conv OIHW → HWIO, linear [out, in] → [in, out], BatchNorm as is. */
function copyWeights(tf: Tf, model: LayersModel, weights: Map<string, Float32Array>): void {
  for (const layer of model.layers) {
    const values = layer.getWeights();
    if (values.length === 0) continue;
    const own = (suffix: string) => {
      const data = weights.get(`${layer.name}.${suffix}`);
      if (!data) throw new Error(`no compiled parameter ${layer.name}.${suffix} for the tf.layers model`);
      return data;
    };
    const cls = layer.getClassName();
    let next: Tensor[];
    if (cls === 'Conv2D') {
      const [kh, kw, cin, cout] = values[0].shape;
      next = [tf.tidy(() => tf.tensor4d(own('weight'), [cout, cin, kh, kw]).transpose([2, 3, 1, 0]))];
      if (values.length > 1) next.push(tf.tensor1d(own('bias')));
    } else if (cls === 'Dense') {
      const [cin, cout] = values[0].shape;
      next = [tf.tidy(() => tf.tensor2d(own('weight'), [cout, cin]).transpose())];
      if (values.length > 1) next.push(tf.tensor1d(own('bias')));
    } else if (cls === 'BatchNormalization') {
      // gamma, beta, then the running statistics, which start like the compiled side's (0 and 1).
      next = [tf.tensor1d(own('weight')), tf.tensor1d(own('bias')), tf.zerosLike(values[2]), tf.onesLike(values[3])];
    } else {
      throw new Error(`a ${cls} layer with weights has no compiled twin`);
    }
    layer.setWeights(next);
    // getWeights hands back the variables themselves, so only the copies are disposed.
    for (const t of next) t.dispose();
  }
}

async function tfjsSide(spec: ResolvedSpec, batch: number, views: Float32Array, weights: Map<string, Float32Array>): Promise<Side> {
  const tf = await loadTf();
  const size = spec.augment.size;
  const channels = spec.encoder.in_channels;
  const model = tfModel(tf, spec);
  copyWeights(tf, model, weights);
  // NHWC is what the webgpu backend's convolutions read; converted once, outside the timed step.
  const x = tf.tidy(() => tf.tensor4d(views, [2 * batch, channels, size, size]).transpose([0, 2, 3, 1]));
  const n2 = 2 * batch;
  const temperature = spec.loss.temperature;
  const mask = tf.tidy(() => tf.mul(tf.eye(n2), -1e9));
  const ntxent = (z: Tensor): Scalar => {
    const u = tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12));
    const logits = tf.add(tf.div(tf.matMul(u, u, false, true), temperature), mask);
    const positives = tf.concat([tf.slice(u, [batch, 0], [batch, -1]), tf.slice(u, [0, 0], [batch, -1])]);
    const positive = tf.div(tf.sum(tf.mul(u, positives), 1), temperature);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), positive)) as Scalar;
  };
  const o = optimizerFor(spec.optimizer, batch);
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  const optimizer = tf.train.adam(o.lr, beta1, beta2, o.eps ?? 1e-8);
  const decay = 1 - o.lr * (o.weight_decay ?? 0);
  return {
    async step() {
      const loss = optimizer.minimize(() => ntxent(model.apply(x, { training: true }) as Tensor), true)!;
      // AdamW's decoupled weight decay, which tf.train.adam leaves out; the compiled step decays every parameter too.
      tf.tidy(() => {
        for (const w of model.trainableWeights) w.write(tf.mul(w.read(), decay));
      });
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    },
    dispose() {
      x.dispose();
      mask.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}

const PYTORCH_TWIN = fileURLToPath(new URL('../../../src/bench/train_pytorch.py', import.meta.url));
const run = promisify(execFile);

/** The first python3 that imports torch: Debian's python3-torch lives under /usr/bin's, which a pyenv shim may hide. */
async function pythonWithTorch(): Promise<string | undefined> {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (await run(python, ['-c', 'import torch, numpy']).then(() => true, () => false)) return python;
  }
  return undefined;
}

/**
 * The PyTorch row: the weights, views and the step's settings go to a scratch folder, the twin
 * script times its own steps (warm-up and median as `measure`) and prints them as one JSON line.
 */
async function pytorchRow(spec: ResolvedSpec, batch: number, repeats: number, views: Float32Array, weights: Map<string, Float32Array>): Promise<TrainRow> {
  const row = { bench: 'train' as const, impl: 'pytorch' as const, batch, precision: 'f32' as const };
  const folder = mkdtempSync(join(tmpdir(), 'simclr-bench-torch-'));
  try {
    const params: { name: string; offset: number; length: number }[] = [];
    let offset = 0;
    for (const [name, data] of weights) {
      params.push({ name, offset, length: data.length });
      offset += data.length;
    }
    const all = new Float32Array(offset);
    for (const [k, data] of [...weights.values()].entries()) all.set(data, params[k].offset);
    writeFileSync(join(folder, 'weights.bin'), all);
    writeFileSync(join(folder, 'views.bin'), views);
    const o = optimizerFor(spec.optimizer, batch);
    const manifest = {
      batch,
      repeats,
      size: spec.augment.size,
      channels: spec.encoder.in_channels,
      layers: spec.encoder.layers,
      projector: spec.projector,
      temperature: spec.loss.temperature,
      lr: o.lr,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weight_decay: o.weight_decay ?? 0,
      params,
    };
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
    const python = await pythonWithTorch();
    if (!python) return { ...row, images_per_s: null, median_ms: null, first_loss: null, note: 'python3 with torch not found (Debian: apt-get install python3-torch)' };
    const { stdout } = await run(python, [PYTORCH_TWIN, folder], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { first_loss: number; median_ms: number; threads: number };
    return {
      ...row,
      images_per_s: round(batch / (result.median_ms / 1000), 1),
      median_ms: round(result.median_ms),
      first_loss: round(result.first_loss, 6),
      note: `torch on ${result.threads} CPU threads`,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

interface Timed {
  impl: TrainRow['impl'];
  side: Side;
  precision: TrainRow['precision'];
  plannedBytes?: number;
  chunking?: { chunk: number; chunks: number };
  /** The first step's loss (the comparison) and the device memory right after it. */
  first: { loss: number; bytes?: number };
}

/**
 * A side with its first step taken: that step compiles every pipeline (the warm-up), and its
 * memory is read before the next side allocates anything.
 */
async function warmed(side: Omit<Timed, 'first'>): Promise<Timed> {
  const loss = await side.side.step();
  return { ...side, first: { loss, bytes: side.side.measuredBytes?.() } };
}

/** Times the sides' steps interleaved: each repeat runs one step of every side in turn, so the machine's load falls on all of them alike. */
async function timeSides(sides: Timed[], batch: number, repeats: number): Promise<TrainRow[]> {
  try {
    const timings = await measureInterleaved(sides.map((s) => async () => void (await s.side.step())), { warmup: 0, repeats });
    return sides.map(({ impl, precision, plannedBytes, chunking, first }, k) => {
      const planned = plannedBytes === undefined ? {} : { planned_mib: round(plannedBytes / 2 ** 20, 2) };
      const measured = first.bytes === undefined ? {} : { measured_peak_mib: round(first.bytes / 2 ** 20, 2) };
      const t = timings[k];
      return { bench: 'train', impl, batch, precision, ...planned, ...measured, ...chunking, images_per_s: round(batch / (t.median_ms / 1000), 1), median_ms: t.median_ms, first_loss: round(first.loss, 6) };
    });
  } finally {
    for (const s of sides) s.side.dispose();
  }
}

/**
 * The rows: the compiled step first (its initial weights seed the others), with precision f16 the
 * f16 step from the same seed, then TF.js (all of them on one device, their steps interleaved),
 * then PyTorch (its own process, after them).
 */
export async function runTrainBench({ batch, repeats, precision = 'f32', chunk, impls = IMPLS }: TrainBenchOptions, emit: (row: TrainRow) => void): Promise<void> {
  const spec = trainSpec(batch);
  const views = fixedViews(batch, spec.augment.size);
  // The compiled step's initial weights seed the other sides, so it is always built.
  const compiled = await compiledSide(spec, batch, views, 'f32', chunk);
  const sides: Timed[] = [];
  if (impls.includes('simclr-compile')) sides.push(await warmed({ impl: 'simclr-compile', precision: 'f32', ...compiled }));
  else compiled.side.dispose();
  if (impls.includes('simclr-compile') && precision === 'f16') sides.push(await warmed({ impl: 'simclr-compile', precision: 'f16', ...(await compiledSide(spec, batch, views, 'f16', chunk)) }));
  if (impls.includes('tfjs-webgpu')) sides.push(await warmed({ impl: 'tfjs-webgpu', precision: 'f32', side: await tfjsSide(spec, batch, views, compiled.weights) }));
  for (const row of await timeSides(sides, batch, repeats)) emit(row);
  if (impls.includes('pytorch')) emit(await pytorchRow(spec, batch, repeats, views, compiled.weights));
}

export const trainSuite: BenchSuite = {
  name: 'train',
  description: 'one SimCLR training step of the stdlib small convnet (batch 256 unless --batch): compiled kernels, chunked when --chunk says or the step does not fit, vs TensorFlow.js webgpu and PyTorch on the CPU',
  run: ({ repeats, quick, precision, batch, chunk, impls }, emit) => runTrainBench({ batch: batch ?? (quick ? 32 : 256), repeats, precision, chunk, impls: impls as TrainRow['impl'][] | undefined }, emit),
};
