// Float64 CPU reference of every primitive (torchvision's definitions) and of a whole view run stage
// by stage from an image's record, exactly as the GPU stages compose them.
import { GRAY_WEIGHTS } from './kernels.js';
import type { AugmentPlan } from './plan.js';
import type { Stage } from './stages.js';
import type { AugOp } from './types.js';

/** One image, channel-first: data[(ch·h + y)·w + x]. */
export interface Planar {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

export const planar = (c: number, h: number, w: number, data = new Float64Array(c * h * w)): Planar => ({ c, h, w, data });

type Point = { x: number; y: number };

/** Bilinear read with the point clamped to the image (torch's index clamping at the far edge). */
export function bilinearAt(img: Planar, q: Point, ch: number): number {
  const x = Math.min(Math.max(q.x, 0), img.w - 1);
  const y = Math.min(Math.max(q.y, 0), img.h - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, img.w - 1);
  const y1 = Math.min(y0 + 1, img.h - 1);
  const lx = x - x0;
  const ly = y - y0;
  const at = (yy: number, xx: number) => img.data[(ch * img.h + yy) * img.w + xx];
  return (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
}

/** Output point → crop-box point (torch's bilinear source index, align_corners=False). */
export function cropInverse(q: Point, box: [number, number, number, number], outH: number, outW: number): Point {
  const [top, left, h, w] = box;
  const sy = Math.min(Math.max((q.y + 0.5) * (h / outH) - 0.5, 0), h - 1);
  const sx = Math.min(Math.max((q.x + 0.5) * (w / outW) - 0.5, 0), w - 1);
  return { x: left + sx, y: top + sy };
}

/** torchvision's rotate: output point about the centre reads the input at R(−angle). */
export function rotateInverse(q: Point, degrees: number, frameH: number, frameW: number): Point {
  const t = (degrees * Math.PI) / 180;
  const [cx, cy] = [(frameW - 1) / 2, (frameH - 1) / 2];
  const [dx, dy] = [q.x - cx, q.y - cy];
  return { x: Math.cos(t) * dx - Math.sin(t) * dy + cx, y: Math.sin(t) * dx + Math.cos(t) * dy + cy };
}

const inFrame = (q: Point, h: number, w: number) => q.x >= -0.5 && q.y >= -0.5 && q.x <= w - 0.5 && q.y <= h - 0.5;

function reflect1(v: number, n: number): number {
  const period = 2 * n;
  let t = v + 0.5;
  t -= period * Math.floor(t / period);
  if (t > n) t = period - t;
  return t - 0.5;
}

function mapPixels(outC: number, outH: number, outW: number, f: (x: number, y: number, ch: number) => number): Planar {
  const out = planar(outC, outH, outW);
  for (let ch = 0; ch < outC; ch++) for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) out.data[(ch * outH + y) * outW + x] = f(x, y, ch);
  return out;
}

export function hflip(img: Planar): Planar {
  return mapPixels(img.c, img.h, img.w, (x, y, ch) => img.data[(ch * img.h + y) * img.w + img.w - 1 - x]);
}

export function resizedCrop(img: Planar, box: [number, number, number, number], outH: number, outW: number): Planar {
  return mapPixels(img.c, outH, outW, (x, y, ch) => bilinearAt(img, cropInverse({ x, y }, box, outH, outW), ch));
}

export function rotate(img: Planar, degrees: number, padding: 'zeros' | 'reflect'): Planar {
  return mapPixels(img.c, img.h, img.w, (x, y, ch) => {
    let q = rotateInverse({ x, y }, degrees, img.h, img.w);
    if (padding === 'reflect') q = { x: reflect1(q.x, img.w), y: reflect1(q.y, img.h) };
    else if (!inFrame(q, img.h, img.w)) return 0;
    return bilinearAt(img, q, ch);
  });
}

const clamp01 = (v: number) => Math.min(Math.max(v, 0), 1);

/** torchvision's _blend: ratio·a + (1 − ratio)·b, clipped to [0, 1]. */
function blend(img: Planar, other: (i: number, ch: number) => number, ratio: number): Planar {
  const plane = img.h * img.w;
  const out = planar(img.c, img.h, img.w);
  for (let ch = 0; ch < img.c; ch++) for (let i = 0; i < plane; i++) out.data[ch * plane + i] = clamp01(ratio * img.data[ch * plane + i] + (1 - ratio) * other(i, ch));
  return out;
}

export function grayAt(img: Planar, i: number): number {
  const plane = img.h * img.w;
  if (img.c === 1) return img.data[i];
  return GRAY_WEIGHTS[0] * img.data[i] + GRAY_WEIGHTS[1] * img.data[plane + i] + GRAY_WEIGHTS[2] * img.data[2 * plane + i];
}

export function rgbToGrayscale(img: Planar): Planar {
  if (img.c === 1) return img;
  return mapPixels(3, img.h, img.w, (x, y) => grayAt(img, y * img.w + x));
}

export const adjustBrightness = (img: Planar, factor: number) => blend(img, () => 0, factor);

export function adjustContrast(img: Planar, factor: number): Planar {
  const plane = img.h * img.w;
  let sum = 0;
  for (let i = 0; i < plane; i++) sum += grayAt(img, i);
  const mean = sum / plane;
  return blend(img, () => mean, factor);
}

export const adjustSaturation = (img: Planar, factor: number) => (img.c === 1 ? img : blend(img, (i) => grayAt(img, i), factor));

/** torchvision's _rgb2hsv → hue shift mod 1 → _hsv2rgb. */
export function adjustHue(img: Planar, factor: number): Planar {
  if (img.c === 1) return img;
  const plane = img.h * img.w;
  const out = planar(3, img.h, img.w);
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = [img.data[i], img.data[plane + i], img.data[2 * plane + i]];
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eqc = maxc === minc;
    const cr = maxc - minc;
    const s = cr / (eqc ? 1 : maxc);
    const crd = eqc ? 1 : cr;
    const [rc, gc, bc] = [(maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd];
    const h6 = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
    let h = (h6 / 6 + 1) % 1;
    h = (((h + factor) % 1) + 1) % 1;
    const v = maxc;
    const i6 = Math.floor(h * 6);
    const f = h * 6 - i6;
    const p = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    const rgb = [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ][i6 % 6];
    rgb.forEach((val, ch) => (out.data[ch * plane + i] = val));
  }
  return out;
}

export function gaussianKernel(size: number, sigma: number): number[] {
  const half = (size - 1) / 2;
  const pdf = Array.from({ length: size }, (_, k) => Math.exp(-0.5 * ((k - half) / sigma) ** 2));
  const total = pdf.reduce((a, b) => a + b, 0);
  return pdf.map((v) => v / total);
}

function reflectIndex(i: number, n: number): number {
  let j = i < 0 ? -i : i;
  if (j >= n) j = 2 * n - 2 - j;
  return Math.min(Math.max(j, 0), n - 1);
}

/** torchvision's gaussian_blur with reflect padding (the 2-D kernel is the outer product: separable). */
export function gaussianBlur(img: Planar, size: number, sigma: number): Planar {
  const k = gaussianKernel(size, sigma);
  const r = (size - 1) / 2;
  const rows = mapPixels(img.c, img.h, img.w, (x, y, ch) => k.reduce((acc, wk, t) => acc + wk * img.data[(ch * img.h + y) * img.w + reflectIndex(x + t - r, img.w)], 0));
  return mapPixels(img.c, img.h, img.w, (x, y, ch) => k.reduce((acc, wk, t) => acc + wk * rows.data[(ch * img.h + reflectIndex(y + t - r, img.h)) * img.w + x], 0));
}

export function normalize(img: Planar, mean: number[], std: number[]): Planar {
  const pick = (xs: number[], ch: number) => xs[Math.min(ch, xs.length - 1)];
  return mapPixels(img.c, img.h, img.w, (x, y, ch) => (img.data[(ch * img.h + y) * img.w + x] - pick(mean, ch)) / pick(std, ch));
}

/** The record's view of one op: its slots. */
type Slots = (k: number) => number;

function applyPointwise(img: Planar, op: AugOp, p: Slots): Planar {
  if (op.op === 'normalize') return normalize(img, op.mean, op.std);
  if (p(0) < 0.5) return img;
  if (op.op === 'grayscale') return rgbToGrayscale(img);
  if (op.op !== 'color_jitter') throw new Error(`${op.op} is not a colour op`);
  const steps = [(im: Planar) => adjustBrightness(im, p(1)), (im: Planar) => adjustContrast(im, p(2)), (im: Planar) => adjustSaturation(im, p(3)), (im: Planar) => adjustHue(im, p(4))];
  return [0, 1, 2, 3].reduce((im, k) => steps[p(5 + k)](im), img);
}

/** One stage's sampling: the composed inverse of its geometric ops, one bilinear read per pixel. */
function sampleStage(plan: AugmentPlan, ops: AugOp[], slots: (i: number) => Slots, geo: number[], input: Planar, fromSource: boolean): Planar {
  const { height: H, width: W } = plan;
  const firstCrop = geo.findIndex((i) => ops[i].op === 'random_resized_crop');
  const frame = (k: number) => (fromSource && firstCrop >= 0 && k < firstCrop ? [input.h, input.w] : [H, W]);
  return mapPixels(input.c, H, W, (x, y, ch) => {
    let q: Point = { x, y };
    let inside = true;
    for (let k = geo.length - 1; k >= 0; k--) {
      const op = ops[geo[k]];
      const p = slots(geo[k]);
      const [fh, fw] = frame(k);
      if (op.op === 'flip' && p(0) > 0.5) q = { x: fw - 1 - q.x, y: q.y };
      else if (op.op === 'rotate' && p(0) > 0.5) {
        q = rotateInverse(q, p(1), fh, fw);
        if (op.padding === 'reflect') q = { x: reflect1(q.x, fw), y: reflect1(q.y, fh) };
        else inside &&= inFrame(q, fh, fw);
      } else if (op.op === 'random_resized_crop') q = cropInverse(q, [p(1), p(2), p(3), p(4)], H, W);
    }
    if (fromSource && firstCrop < 0) q = cropInverse(q, [0, 0, input.h, input.w], H, W);
    return inside ? bilinearAt(input, q, ch) : 0;
  });
}

function runStage(plan: AugmentPlan, ops: AugOp[], slots: (i: number) => Slots, stage: Stage, source: Planar, cur: Planar | undefined): Planar {
  const read = stage.read;
  let img: Planar;
  if (read.kind === 'sample') img = sampleStage(plan, ops, slots, read.geo, read.from === 'source' ? source : cur!, read.from === 'source');
  else if (read.kind === 'blur') {
    const op = ops[read.op] as Extract<AugOp, { op: 'blur' }>;
    const p = slots(read.op);
    img = p(0) > 0.5 ? gaussianBlur(cur!, op.kernel, p(1)) : cur!;
  } else img = cur!;
  return stage.pointwise.reduce((im, i) => applyPointwise(im, ops[i], slots(i)), img);
}

/** One view of one source image (values in [0, 1]) from its record, in float64. */
export function referenceView(plan: AugmentPlan, view: number, source: Planar, record: ArrayLike<number>): Planar {
  const { ops, stages } = plan.views[view];
  const slots = (i: number): Slots => (k) => record[plan.layout.offsets[view][i] + k];
  let cur: Planar | undefined;
  for (const stage of stages) cur = runStage(plan, ops, slots, stage, source, cur);
  return cur!;
}
