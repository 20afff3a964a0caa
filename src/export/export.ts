// `export` and `embed`: a run's encoder out of the project, as an ONNX model with a reference
// batch, or as the features of a data split.
import { writeFileSync } from 'node:fs';
import { compileFeatures } from '../compiler/compile.js';
import { openDataset, takeFirst, type Split } from '../data/index.js';
import { Rng } from '../data/rng.js';
import { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ResolvedSpec } from '../spec/index.js';
import { extractFeatures } from '../eval/features.js';
import { RunFolderError } from './errors.js';
import { encoderToOnnx } from './onnx.js';
import { runSpec, runWeights } from './run.js';
import { encodeNpy, encodeSafetensors } from './tensor-files.js';

/** The encoder's compiled inference graph on a batch of already normalised views (no augment head). */
export async function encoderFeatures(rt: Runtime, spec: ResolvedSpec, weights: Record<string, Float32Array>, input: Float32Array, batch: number): Promise<Float32Array> {
  const encoder = { ...spec, augment: { size: spec.augment.size } };
  const executor = await StepExecutor.create(rt, compileFeatures(encoder, batch, rt.target), { initial: weights });
  try {
    executor.write('images', input);
    executor.record();
    return await executor.read('features');
  } finally {
    executor.destroy();
  }
}

export interface ExportResult {
  onnx: string;
  example: string;
  inputShape: number[];
  featureDim: number;
}

/** FILE.onnx and FILE.example.safetensors (`input`: seeded N(0, 1) views, `features`: ours for them). */
export async function exportOnnx(rt: Runtime, dir: string, file: string, batch = 2): Promise<ExportResult> {
  if (!file.endsWith('.onnx')) throw new RunFolderError('E0503', `--onnx ${file}: the model file's name must end in .onnx`);
  const spec = runSpec(dir);
  const weights = runWeights(dir);
  const inputShape = [batch, spec.encoder.in_channels, spec.augment.size, spec.augment.size];
  const model = encoderToOnnx(spec.encoder, weights, { channels: inputShape[1], size: inputShape[2] });
  const rng = new Rng(spec.train.seed + 1);
  const input = Float32Array.from({ length: inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const features = await encoderFeatures(rt, spec, weights, input, batch);
  const example = `${file.slice(0, -'.onnx'.length)}.example.safetensors`;
  writeFileSync(file, model.bytes);
  const metadata = { about: 'input: normalised views (N, C, H, W); features: what simclr-compile computes for them' };
  writeFileSync(example, encodeSafetensors({ input: { shape: inputShape, data: input }, features: { shape: [batch, model.featureDim], data: features } }, metadata));
  return { onnx: file, example, inputShape, featureDim: model.featureDim };
}

export interface EmbedOptions {
  split?: Split;
  limit?: number;
  out: string;
}

/** Features (N, D) float32 and labels (N,) int32: one safetensors file, or FILE.npy and FILE.labels.npy. */
export async function embed(rt: Runtime, dir: string, opts: EmbedOptions): Promise<{ files: string[]; count: number; dim: number }> {
  const kind = opts.out.endsWith('.npy') ? 'npy' : opts.out.endsWith('.safetensors') ? 'safetensors' : undefined;
  if (!kind) throw new RunFolderError('E0503', `--out ${opts.out}: write .npy or .safetensors (the extension picks the format)`);
  const spec = runSpec(dir);
  const weights = runWeights(dir);
  const all = openDataset(spec.data, opts.split ?? spec.data.eval_split);
  const data = opts.limit ? takeFirst(all, opts.limit) : all;
  const f = await extractFeatures(rt, spec, weights, data);
  const features = { shape: [f.count, f.dim], data: f.data };
  const labels = { shape: [f.count], data: f.labels };
  if (kind === 'safetensors') {
    writeFileSync(opts.out, encodeSafetensors({ features, labels }, { run: dir, split: opts.split ?? spec.data.eval_split }));
    return { files: [opts.out], count: f.count, dim: f.dim };
  }
  const labelFile = `${opts.out.slice(0, -'.npy'.length)}.labels.npy`;
  writeFileSync(opts.out, encodeNpy(features));
  writeFileSync(labelFile, encodeNpy(labels));
  return { files: [opts.out, labelFile], count: f.count, dim: f.dim };
}
