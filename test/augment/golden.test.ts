// Each deterministic primitive, with torchvision's fixed parameters, against torchvision (float64):
// on the GPU (the fused view kernels driven by a hand-written record) and in the float64 reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileAugment, type AugOp, type AugmentPlan } from '../../src/augment/index.js';
import * as ref from '../../src/kernels/augment/reference.js';
import { runtime } from '../../src/gpu/runtime.js';
import type { Target } from '../../src/kernels/op.js';
import { golden } from '../helpers/golden.js';
import { runWithRecords } from './util.js';

interface GoldenOp {
  op: string;
  params: Record<string, any>;
  input: 'rgb' | 'gray';
  shape: [number, number, number, number];
  output: number[];
}
const data = golden<{ inputs: Record<string, { shape: number[]; data: number[] }>; ops: GoldenOp[] }>('augs.json');

const jitter = { op: 'color_jitter', p: 1, brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.2 } as const;
// One pipeline holds every primitive; a record switches on the one under test, so few kernels compile.
const PRIMITIVES: AugOp[] = [
  { op: 'random_resized_crop', p: 1, scale: [0.2, 1], ratio: [0.75, 4 / 3] },
  { op: 'flip', p: 0.5 },
  jitter,
  { op: 'grayscale', p: 0.5 },
  { op: 'blur', p: 0.5, kernel: 5, sigma: [0.1, 2] },
  { op: 'blur', p: 0.5, kernel: 3, sigma: [0.1, 2] },
];

/** The record that makes the pipeline compute exactly one golden primitive. */
function recordFor(plan: AugmentPlan, g: GoldenOp): Float32Array {
  const rec = new Float32Array(plan.layout.stride);
  const { height: h, width: w } = plan.source;
  const off = plan.layout.offsets[0];
  rec.set([0, 0, 0, h, w], off[0]); // crop off: the whole source, resized to itself
  rec.set([0, 1, 1, 1, 0, 0, 1, 2, 3], off[2]); // jitter off, identity factors
  const jitterWith = (k: number, factor: number) => {
    const factors = [1, 1, 1, 0];
    factors[k] = factor;
    rec.set([1, ...factors, k, ...[0, 1, 2, 3].filter((x) => x !== k)], off[2]);
  };
  const p = g.params;
  switch (g.op) {
    case 'hflip':
      rec[off[1]] = 1;
      break;
    case 'resized_crop':
      rec.set([1, p.top, p.left, p.height, p.width], off[0]);
      break;
    case 'adjust_brightness':
      jitterWith(0, p.factor);
      break;
    case 'adjust_contrast':
      jitterWith(1, p.factor);
      break;
    case 'adjust_saturation':
      jitterWith(2, p.factor);
      break;
    case 'adjust_hue':
      jitterWith(3, p.factor);
      break;
    case 'rgb_to_grayscale':
      rec[off[3]] = 1;
      break;
    case 'gaussian_blur':
      rec.set([1, p.sigma], off[p.kernel_size === 5 ? 4 : 5]);
      break;
    default:
      throw new Error(`no record for ${g.op}`);
  }
  return rec;
}

function planFor(g: GoldenOp, ops: AugOp[], target: Target): AugmentPlan {
  const [, c, h, w] = data.inputs[g.input].shape;
  const source = { channels: c as 1 | 3, height: h, width: w, dtype: 'f32' as const };
  return compileAugment({ size: g.shape[2], views: [ops, ops] }, source, target, { height: g.shape[2], width: g.shape[3] });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'length');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Number.isFinite(a[i]) ? Math.abs(a[i] - b[i]) : Infinity);
  return worst;
}

const label = (g: GoldenOp) => `${g.op} ${g.input} ${JSON.stringify(g.params)}`;

function images(name: string): ref.Planar[] {
  const { shape, data: values } = data.inputs[name];
  const [n, c, h, w] = shape;
  return Array.from({ length: n }, (_, i) => ref.planar(c, h, w, Float64Array.from(values.slice(i * c * h * w, (i + 1) * c * h * w))));
}

function referenceOf(g: GoldenOp, img: ref.Planar): ref.Planar {
  const p = g.params;
  switch (g.op) {
    case 'hflip':
      return ref.hflip(img);
    case 'resized_crop':
      return ref.resizedCrop(img, [p.top, p.left, p.height, p.width], p.size[0], p.size[1]);
    case 'adjust_brightness':
      return ref.adjustBrightness(img, p.factor);
    case 'adjust_contrast':
      return ref.adjustContrast(img, p.factor);
    case 'adjust_saturation':
      return ref.adjustSaturation(img, p.factor);
    case 'adjust_hue':
      return ref.adjustHue(img, p.factor);
    case 'rgb_to_grayscale':
      return ref.rgbToGrayscale(img);
    case 'gaussian_blur':
      return ref.gaussianBlur(img, p.kernel_size, p.sigma);
    case 'normalize':
      return ref.normalize(img, p.mean, p.std);
  }
  throw new Error(`no reference for ${g.op}`);
}

test('the float64 reference of every primitive equals torchvision (1e-12)', () => {
  for (const g of data.ops) {
    const got = images(g.input).flatMap((img) => [...referenceOf(g, img).data]);
    const err = maxDiff(got, g.output);
    assert.ok(err <= 1e-12, `${label(g)}: max error ${err.toExponential(2)}`);
  }
});

test('every primitive on the GPU equals torchvision within 1e-4', async () => {
  const target = (await runtime()).target;
  for (const g of data.ops) {
    const input = data.inputs[g.input];
    const count = input.shape[0];
    const ops: AugOp[] = g.op === 'normalize' ? [{ op: 'normalize', mean: g.params.mean, std: g.params.std }] : PRIMITIVES;
    const plan = planFor(g, ops, target);
    const one = g.op === 'normalize' ? new Float32Array(plan.layout.stride) : recordFor(plan, g);
    const records = new Float32Array(2 * count * plan.layout.stride);
    for (let r = 0; r < 2 * count; r++) records.set(one, r * plan.layout.stride);
    const [view1, view2] = await runWithRecords(plan, Float32Array.from(input.data), count, records);
    const err = Math.max(maxDiff(view1, g.output), maxDiff(view2, g.output));
    assert.ok(err <= 1e-4, `${label(g)}: max error ${err.toExponential(2)}`);
  }
});

test.run();
