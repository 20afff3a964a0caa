// show-augs' picture: n source images and their two views side by side, views un-normalised (the
// normalize op is left out) so a person sees what the pipeline does to the pixels.
import { encode } from 'fast-png';
import type { Runtime } from '../gpu/runtime.js';
import { augmentPlan, type AugmentAttrs } from '../kernels/augment.js';
import type { AugmentPlan } from '../kernels/augment/plan.js';
import type { AugmentSpec } from '../kernels/augment/types.js';
import { runAugment } from './run.js';

/** Images as the data stage holds them: channel-first uint8, one after another. */
export interface SourceImages {
  images: Uint8Array;
  count: number;
  channels: number;
  height: number;
  width: number;
}

export interface Preview {
  png: Uint8Array;
  width: number;
  height: number;
  plan: AugmentPlan;
  /** The views as drawn, [n, C, size, size] each, values in [0, 1] (before normalize). */
  views: Float32Array[];
  /** Each image's records ([view][image][stride]). */
  records: Float32Array;
}

const GAP = 4;
const BACKGROUND = 96;

export function withoutNormalize(augment: AugmentSpec): AugmentSpec {
  const strip = (ops: AugmentSpec['views'][0]) => ops.filter((op) => op.op !== 'normalize');
  return { size: augment.size, views: [strip(augment.views[0]), strip(augment.views[1])] };
}

export async function renderPreview(rt: Runtime, augment: AugmentSpec, images: SourceImages, n: number, seed: number): Promise<Preview> {
  const count = Math.min(n, images.count);
  if (count < 1) throw new Error('show-augs needs at least one source image');
  if (images.channels !== 1 && images.channels !== 3) throw new Error(`images with ${images.channels} channels cannot be shown`);
  const source = { channels: images.channels as 1 | 3, height: images.height, width: images.width, dtype: 'uint8' } as const;
  const attrs: AugmentAttrs = { ...withoutNormalize(augment), source };
  const plan = augmentPlan(attrs, rt.target);
  const run = await runAugment(rt, attrs, images.images.subarray(0, count * images.channels * images.height * images.width), count, { seed, step: 0 });
  const viewLength = count * images.channels * plan.height * plan.width;
  const views = [run.views.slice(0, viewLength), run.views.slice(viewLength)];
  return { ...grid(images, count, plan.height, views), plan, views, records: run.records };
}

/** Rows of [source | view 1 | view 2], scaled up by whole pixels so 28×28 digits are visible. */
function grid(source: SourceImages, count: number, size: number, views: Float32Array[]): { png: Uint8Array; width: number; height: number } {
  const { channels: C, height: H, width: W } = source;
  const cell = Math.max(size, H, W);
  const zoom = Math.max(1, Math.floor(128 / cell));
  const side = cell * zoom;
  const width = 3 * side + 4 * GAP;
  const height = count * side + (count + 1) * GAP;
  const rgb = new Uint8Array(width * height * 3).fill(BACKGROUND);
  const paint = (col: number, row: number, h: number, w: number, at: (c: number, y: number, x: number) => number) => {
    const x0 = GAP + col * (side + GAP);
    const y0 = GAP + row * (side + GAP);
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < w * zoom; x++) {
        const o = ((y0 + y) * width + x0 + x) * 3;
        for (let c = 0; c < 3; c++) rgb[o + c] = at(Math.min(c, C - 1), Math.floor(y / zoom), Math.floor(x / zoom));
      }
    }
  };
  const toByte = (v: number) => Math.round(Math.min(Math.max(v, 0), 1) * 255);
  for (let n = 0; n < count; n++) {
    paint(0, n, H, W, (c, y, x) => source.images[((n * C + c) * H + y) * W + x]);
    views.forEach((view, v) => paint(1 + v, n, size, size, (c, y, x) => toByte(view[((n * C + c) * size + y) * size + x])));
  }
  return { png: encode({ width, height, data: rgb, channels: 3, depth: 8 }), width, height };
}
