// Row moves between the stacked views [2N, …] (view 1's N rows, then view 2's) and a chunk of them:
// `take_views` copies rows [start, start+count) of both halves into a [2·count, …] chunk, and
// `put_views` assembles every chunk's rows back into [2N, …] in the original order. A chunked step
// (src/ir/chunk.ts) takes its images with the first and assembles its embeddings with the second,
// so the loss sees exactly the rows, and row order, of the unchunked step.
import { elementGrid } from './batchnorm.js';
import { defineOp, numel, type Attrs, type Shape, type Target } from './op.js';

export interface TakeViewsAttrs extends Attrs {
  /** First image of the chunk, and the images per view of the stacked tensor. */
  start: number;
  count: number;
  half: number;
}

const WG = 256;

/** Row r of a [2·count, …] chunk is this row of the stacked [2·half, …] tensor. */
const stackedRow = (r: number, { start, count, half }: TakeViewsAttrs) => (r < count ? start + r : half + start + r - count);

/** One program moving a chunk's elements; `move` is the statement for element i of row r. */
function moveProgram(label: string, rows: number, inner: number, a: TakeViewsAttrs, move: string, bindings: string[], target: Target) {
  const count = rows * inner;
  const groups = elementGrid(count, target);
  return {
    label,
    code: /* wgsl */ `
struct Params { n: u32, inner: u32, start: u32, count: u32, half: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = id.x + id.y * nw.x * ${WG}u;
  if (i >= p.n) { return; }
  let r = i / p.inner;
  let row = select(p.half + p.start + r - p.count, p.start + r, r < p.count);
  let k = row * p.inner + i % p.inner;
  ${move}
}`,
    groups,
    params: { values: [count, inner, a.start, a.count, a.half] },
    bindings,
  };
}

defineOp<TakeViewsAttrs>({
  name: 'take_views',
  shape: ([x], a) => {
    if (x[0] !== 2 * a.half) throw new Error(`take_views needs [${2 * a.half}, …] stacked views, got [${x}]`);
    if (a.start < 0 || a.count < 1 || a.start + a.count > a.half) throw new Error(`rows ${a.start}+${a.count} outside ${a.half} images`);
    return [[2 * a.count, ...x.slice(1)]];
  },
  reference: ([x], [shape], a) => {
    const inner = numel(shape.slice(1));
    const y = new Float64Array(2 * a.count * inner);
    for (let r = 0; r < 2 * a.count; r++) y.set(x.subarray(stackedRow(r, a) * inner, (stackedRow(r, a) + 1) * inner), r * inner);
    return [y];
  },
  kernel: ([x], a, target) => ({
    programs: [moveProgram('take_views', 2 * a.count, numel(x.slice(1)), a, 'dst[i] = src[k];', ['in:0', 'out:0'], target)],
  }),
  // Only ever applied to data (the views) and to ∂Z in put_views' gradient: nothing differentiates it.
});

/** Inputs are the chunks in order; each one's image count is half its rows. */
const chunkAttrs = (shapes: Shape[], half: number): TakeViewsAttrs[] => {
  let start = 0;
  return shapes.map((s) => {
    const a = { start, count: s[0] / 2, half };
    start += a.count;
    return a;
  });
};

defineOp<{ half: number }>({
  name: 'put_views',
  shape: (chunks, { half }) => {
    const images = chunks.reduce((n, s) => n + s[0] / 2, 0);
    if (images !== half || chunks.some((s) => s[0] % 2 || s.slice(1).join() !== chunks[0].slice(1).join())) {
      throw new Error(`put_views needs chunks of 2·k rows of one width covering ${half} images, got ${chunks.map((s) => `[${s}]`).join(' ')}`);
    }
    return [[2 * half, ...chunks[0].slice(1)]];
  },
  reference: (chunks, shapes, { half }) => {
    const inner = numel(shapes[0].slice(1));
    const out = new Float64Array(2 * half * inner);
    chunkAttrs(shapes, half).forEach((a, c) => {
      for (let r = 0; r < 2 * a.count; r++) out.set(chunks[c].subarray(r * inner, (r + 1) * inner), stackedRow(r, a) * inner);
    });
    return [out];
  },
  // One program per chunk, each binding only its chunk: any number of chunks stays within the
  // per-stage buffer limit.
  kernel: (shapes, { half }, target) => ({
    programs: chunkAttrs(shapes, half).map((a, c) =>
      moveProgram('put_views', 2 * a.count, numel(shapes[0].slice(1)), a, 'dst[k] = src[i];', [`in:${c}`, 'out:0'], target),
    ),
  }),
  grad: ({ inputs, grads: [g], attrs, emit }) =>
    chunkAttrs(
      inputs.map((v) => v.shape),
      attrs.half,
    ).map((a) => g && emit('take_views', [g], a)[0]),
});

export interface TakeImagesAttrs extends Attrs {
  /** First image and image count of the chunk; the element type of the images (u8 travels packed). */
  start: number;
  count: number;
  dtype?: 'u8' | 'f32';
}

/**
 * `take_images` copies images [start, start+count) of a source [N, …] (the u8 images a chunked step
 * augments chunk by chunk), word by word: a u8 image must fill whole words (its bytes a multiple of 4).
 */
defineOp<TakeImagesAttrs>({
  name: 'take_images',
  shape: ([x], a) => {
    if (a.start < 0 || a.count < 1 || a.start + a.count > x[0]) throw new Error(`images ${a.start}+${a.count} outside ${x[0]}`);
    if (a.dtype === 'u8' && numel(x.slice(1)) % 4) throw new Error(`take_images moves whole words: a u8 image of ${numel(x.slice(1))} bytes is not`);
    return [[a.count, ...x.slice(1)]];
  },
  dtypes: (_s, a) => [a.dtype === 'u8' ? 'u8' : undefined],
  reference: ([x], [shape], a) => {
    const inner = numel(shape.slice(1));
    return [x.slice(a.start * inner, (a.start + a.count) * inner)];
  },
  kernel: ([x], a, target) => {
    const inner = numel(x.slice(1)) / (a.dtype === 'u8' ? 4 : 1);
    const n = a.count * inner;
    return {
      programs: [
        {
          label: 'take_images',
          code: /* wgsl */ `
struct Params { n: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = id.x + id.y * nw.x * ${WG}u;
  if (i >= p.n) { return; }
  dst[i] = src[p.offset + i];
}`,
          groups: elementGrid(n, target),
          params: { values: [n, a.start * inner] },
          bindings: ['in:0', 'out:0'],
        },
      ],
    };
  },
});
