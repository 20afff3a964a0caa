// Per-image parameters of every op: where each op's values sit in an image's record, how they are
// drawn on the host (TypeScript) and in a kernel (WGSL). Both follow the same f32 arithmetic step by
// step, so the records agree; only exp/sqrt in the crop search may differ in the last bit by adapter.
import { stepDecl } from '../op.js';
import { rand01, randBelow, RNG_WGSL, type DrawKey } from './rng.js';
import type { AugOp, AugOpName } from './types.js';

/**
 * The frame a crop draws its box in: the source's when its pass reads the source, the view's when
 * an earlier pass already brought the image to the view's size.
 */
export type CropFrame = 'source' | 'view';

/** Record slots of each op, first slot = fired (1) or not (0). */
export const SLOTS: Record<AugOpName, number> = {
  random_resized_crop: 5, // fired, top, left, height, width
  flip: 1,
  rotate: 2, // fired, angle in degrees
  color_jitter: 9, // fired, brightness, contrast, saturation, hue, order[4] (0 b, 1 c, 2 s, 3 h)
  grayscale: 1,
  blur: 2, // fired, sigma
  normalize: 0,
};

export const CROP_ATTEMPTS = 10;

export interface ParamLayout {
  /** offsets[view][opIndex]: first slot of that op in a record. */
  offsets: number[][];
  /** Floats per record; records are laid out [view][image]. */
  stride: number;
}

export function paramLayout(views: AugOp[][]): ParamLayout {
  const offsets = views.map((ops) => {
    let at = 0;
    return ops.map((op) => {
      const here = at;
      at += SLOTS[op.op];
      return here;
    });
  });
  const stride = Math.max(1, ...views.map((ops) => ops.reduce((s, op) => s + SLOTS[op.op], 0)));
  return { offsets, stride };
}

const f = Math.fround;

/** Python's round(): half to even, as WGSL's round() does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [lo, lo+span) as f32 constants, so host and kernel start from the same two numbers. */
export function range32(lo: number, hi: number): { lo: number; span: number } {
  return { lo: f(lo), span: f(f(hi) - f(lo)) };
}

function uniform(r: { lo: number; span: number }, u: number): number {
  return f(r.lo + f(r.span * u));
}

function jitterRanges(op: Extract<AugOp, { op: 'color_jitter' }>) {
  const around1 = (s: number) => range32(Math.max(0, 1 - s), 1 + s);
  return [around1(op.brightness), around1(op.contrast), around1(op.saturation), range32(-op.hue, op.hue)];
}

/** torchvision's RandomResizedCrop.get_params, each attempt on its own draws. */
export function drawCrop(key: DrawKey, opIndex: number, op: Extract<AugOp, { op: 'random_resized_crop' }>, height: number, width: number): [number, number, number, number] {
  const area = f(height * width);
  const scale = range32(op.scale[0], op.scale[1]);
  const logRatio = range32(Math.log(op.ratio[0]), Math.log(op.ratio[1]));
  for (let a = 0; a < CROP_ATTEMPTS; a++) {
    const target = f(area * uniform(scale, rand01(key, opIndex, 1 + 4 * a)));
    const aspect = f(Math.exp(uniform(logRatio, rand01(key, opIndex, 2 + 4 * a))));
    const w = roundHalfEven(f(Math.sqrt(f(target * aspect))));
    const h = roundHalfEven(f(Math.sqrt(f(target / aspect))));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return [randBelow(key, opIndex, 3 + 4 * a, height - h + 1), randBelow(key, opIndex, 4 + 4 * a, width - w + 1), h, w];
    }
  }
  const [rMin, rMax] = [f(Math.min(...op.ratio)), f(Math.max(...op.ratio))];
  const inRatio = f(width / height);
  let w = width;
  let h = height;
  if (inRatio < rMin) h = roundHalfEven(f(w / rMin));
  else if (inRatio > rMax) w = roundHalfEven(f(h * rMax));
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** One image's record for one view, exactly as the params kernel writes it. */
export function drawViewRecord(
  ops: AugOp[],
  layout: ParamLayout,
  view: number,
  key: DrawKey,
  frameOf: (opIndex: number) => { height: number; width: number },
): Float32Array {
  const rec = new Float32Array(layout.stride);
  ops.forEach((op, i) => {
    const at = layout.offsets[view][i];
    if (op.op === 'normalize') return;
    const fired = rand01(key, i, 0) < f(op.p) ? 1 : 0;
    rec[at] = fired;
    switch (op.op) {
      case 'random_resized_crop': {
        const { height, width } = frameOf(i);
        rec.set(fired ? drawCrop(key, i, op, height, width) : [0, 0, height, width], at + 1);
        break;
      }
        break;
      case 'rotate':
        rec[at + 1] = uniform(range32(-op.degrees, op.degrees), rand01(key, i, 1));
        break;
      case 'color_jitter': {
        jitterRanges(op).forEach((r, k) => (rec[at + 1 + k] = uniform(r, rand01(key, i, 1 + k))));
        const order = [0, 1, 2, 3];
        for (let k = 3; k > 0; k--) {
          const j = randBelow(key, i, 8 - k, k + 1);
          [order[k], order[j]] = [order[j], order[k]];
        }
        rec.set(order, at + 5);
        break;
      }
      case 'blur':
        rec[at + 1] = uniform(range32(op.sigma[0], op.sigma[1]), rand01(key, i, 1));
        break;
      case 'flip':
      case 'grayscale':
        break;
    }
  });
  return rec;
}

/** A WGSL f32 literal that parses to exactly the f32 value `x`. */
export function lit(x: number): string {
  const v = f(x);
  if (!Number.isFinite(v)) throw new Error(`not a finite f32: ${x}`);
  const s = String(v);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

function drawOpWgsl(op: AugOp, i: number, at: number, frame: CropFrame): string {
  if (op.op === 'normalize') return '';
  const slot = (k: number) => `params[base + ${at + k}u]`;
  const r = (draw: number | string) => `rand01(n, view, ${i}u, ${typeof draw === 'number' ? `${draw}u` : draw})`;
  const uni = (rg: { lo: number; span: number }, draw: number | string) => `(${lit(rg.lo)} + ${lit(rg.span)} * ${r(draw)})`;
  const fired = `let fired${i} = ${r(0)} < ${lit(op.p)};\n  ${slot(0)} = select(0.0, 1.0, fired${i});`;
  switch (op.op) {
    case 'random_resized_crop': {
      const [fh, fw] = frame === 'source' ? ['u.in_h', 'u.in_w'] : ['u.out_h', 'u.out_w'];
      const scale = range32(op.scale[0], op.scale[1]);
      const logRatio = range32(Math.log(op.ratio[0]), Math.log(op.ratio[1]));
      return `${fired}
  var box${i} = vec4u(0u, 0u, ${fh}, ${fw});
  if (fired${i}) {
    box${i} = center_crop(${lit(Math.min(...op.ratio))}, ${lit(Math.max(...op.ratio))}, ${fh}, ${fw});
    let area = f32(${fh} * ${fw});
    for (var a = 0u; a < ${CROP_ATTEMPTS}u; a++) {
      let wanted = area * ${uni(scale, '1u + 4u * a')};
      let aspect = exp(${uni(logRatio, '2u + 4u * a')});
      let w = round(sqrt(wanted * aspect));
      let h = round(sqrt(wanted / aspect));
      if (w > 0.0 && w <= f32(${fw}) && h > 0.0 && h <= f32(${fh})) {
        let hi = u32(h);
        let wi = u32(w);
        box${i} = vec4u(rand_below(n, view, ${i}u, 3u + 4u * a, ${fh} - hi + 1u), rand_below(n, view, ${i}u, 4u + 4u * a, ${fw} - wi + 1u), hi, wi);
        break;
      }
    }
  }
  ${slot(1)} = f32(box${i}.x); ${slot(2)} = f32(box${i}.y); ${slot(3)} = f32(box${i}.z); ${slot(4)} = f32(box${i}.w);`;
    }
    case 'rotate':
      return `${fired}\n  ${slot(1)} = ${uni(range32(-op.degrees, op.degrees), 1)};`;
    case 'color_jitter': {
      const lines = jitterRanges(op).map((rg, k) => `${slot(1 + k)} = ${uni(rg, 1 + k)};`);
      return `${fired}
  ${lines.join('\n  ')}
  var order${i} = array<u32, 4>(0u, 1u, 2u, 3u);
  for (var k = 3u; k > 0u; k--) {
    let j = rand_below(n, view, ${i}u, 8u - k, k + 1u);
    let t = order${i}[k]; order${i}[k] = order${i}[j]; order${i}[j] = t;
  }
  for (var k = 0u; k < 4u; k++) { params[base + ${at + 5}u + k] = f32(order${i}[k]); }`;
    }
    case 'blur':
      return `${fired}\n  ${slot(1)} = ${uni(range32(op.sigma[0], op.sigma[1]), 1)};`;
    case 'flip':
    case 'grayscale':
      return fired;
  }
}

/**
 * The params kernel: one invocation per (view, image) writes that image's record. The seed and the
 * step come from the phase's per-step uniform, so the draws change every step without a re-plan.
 */
export function paramsKernel(views: AugOp[][], layout: ParamLayout, frames: CropFrame[][]): string {
  const bodies = views.map((ops, v) => {
    const draws = ops.map((op, i) => drawOpWgsl(op, i, layout.offsets[v][i], frames[v][i])).filter(Boolean);
    return `fn draw_view${v}(n: u32, view: u32, base: u32) {\n  ${draws.join('\n  ')}\n}`;
  });
  // The draws are keyed by the image's index in the global batch: a process of a data-parallel run
  // holds the images from u.image_offset on, and draws what one process would for them.
  const dispatch = views.length === 1 ? 'draw_view0(key, view, base);' : 'if (view == 0u) { draw_view0(key, view, base); } else { draw_view1(key, view, base); }';
  return /* wgsl */ `
struct U { count: u32, views: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, view: u32, image_offset: u32 }
@group(0) @binding(0) var<uniform> u: U;
${stepDecl(1)}
@group(0) @binding(2) var<storage, read_write> params: array<f32>;
${RNG_WGSL}
// torchvision's fallback when no attempt fits: the largest centred crop within the ratio range.
fn center_crop(r_min: f32, r_max: f32, fh: u32, fw: u32) -> vec4u {
  let in_ratio = f32(fw) / f32(fh);
  var h = fh;
  var w = fw;
  if (in_ratio < r_min) { h = u32(round(f32(w) / r_min)); } else if (in_ratio > r_max) { w = u32(round(f32(h) * r_max)); }
  return vec4u((fh - h) / 2u, (fw - w) / 2u, h, w);
}
${bodies.join('\n')}
@compute @workgroup_size(${PARAMS_WORKGROUP}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let g = id.x + id.y * 65535u * ${PARAMS_WORKGROUP}u;
  if (g >= u.views * u.count) { return; }
  let view = g / u.count;
  let n = g % u.count;
  let base = g * ${layout.stride}u;
  let key = n + u.image_offset;
  // Slots no op of this view uses stay 0, whatever the buffer held before.
  for (var k = 0u; k < ${layout.stride}u; k++) { params[base + k] = 0.0; }
  ${dispatch}
}`;
}

export const PARAMS_WORKGROUP = 64;
