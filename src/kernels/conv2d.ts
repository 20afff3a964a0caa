// conv2d (NCHW input, OIHW weight as PyTorch, any stride and padding, optional bias) and its three
// gradients, each again an op: conv2d_grad_input (the transposed convolution of ∂y with the weight),
// conv2d_grad_weight (the correlation of x with ∂y summed over the batch) and conv2d_grad_bias.
//
// All three convolutions are implicit GEMMs without workgroup memory (what is fast on lavapipe), each
// invocation accumulating a register tile: 4-vectors of channels × pixels, or taps × 4-vectors of
// channels for the weight gradient. The forward and input-gradient kernels read the weight transposed
// into scratch (channels innermost, zero-padded to whole 4-vectors), so its loads are 4-vectors
// straight from storage, the same address in every lane of a workgroup (one channel block each).
// Their image operand is first copied with zero margins into scratch, so no tap needs a bounds check
// (a third of the time otherwise). Integer divisions stay out of the loops: a vector division runs
// lane by lane on a CPU. Lavapipe (Mesa 25, GALLIVM_DEBUG=asm) loads from one address for all lanes
// only where the index is a constant: the weight's loads, though the same in every lane, are gathered
// lane by lane like the image's, so what counts is loads per FMA, and a loop body small enough for
// the instruction cache (larger tiles lose).
import { channelSumWgsl, elementGrid } from './batchnorm.js';
import { ceilDiv, defineOp, numel, type Attrs, type KernelPlan, type Program, type Shape, type Target } from './op.js';

export interface Conv2dAttrs extends Attrs {
  /** One number for both axes or [vertical, horizontal]; 1 by default. */
  stride?: number | number[];
  /** Zeros added on each side, one number or [vertical, horizontal]; 0 by default. */
  padding?: number | number[];
}

export interface Conv2dGradInputAttrs extends Conv2dAttrs {
  /** [H, W] of the forward input: strides make it ambiguous from the output's size. */
  input_size: number[];
}

export interface Conv2dGradWeightAttrs extends Conv2dAttrs {
  /** [KH, KW] of the weight. */
  kernel_size: number[];
}

/** Everything that fixes one convolution: x [n,c,h,w] ⋆ w [o,c,kh,kw] → y [n,o,oh,ow]. */
export interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

function pair(value: unknown, fallback: number, what: string): [number, number] {
  const v = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => Number.isInteger(e) && e >= 0)) {
    throw new Error(`conv2d ${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [v[0], v[1]];
}

function rank4(shape: Shape, what: string): void {
  if (shape.length !== 4) throw new Error(`conv2d ${what} must be 4-D, got [${shape}]`);
}

export function geometry(x: Shape, [o, cw, kh, kw]: Shape, attrs: Conv2dAttrs): Geometry {
  const [n, c, h, w] = x;
  const [sh, sw] = pair(attrs.stride, 1, 'stride');
  const [ph, pw] = pair(attrs.padding, 0, 'padding');
  if (sh === 0 || sw === 0) throw new Error('conv2d stride must be at least 1');
  if (cw !== c) throw new Error(`conv2d weight has ${cw} input channels, the input has ${c}`);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new Error(`conv2d kernel ${kh}×${kw} does not fit the padded ${h}×${w} input`);
  return { n, c, h, w, o, oh, ow, kh, kw, sh, sw, ph, pw };
}

/** The geometry of a gradient op, rebuilt from its operands' shapes and attributes. */
function gradInputGeometry([g, wt]: Shape[], attrs: Conv2dGradInputAttrs): Geometry {
  rank4(g, 'output gradient');
  rank4(wt, 'weight');
  const [h, w] = pair(attrs.input_size, 0, 'input_size');
  const geo = geometry([g[0], wt[1], h, w], wt, attrs);
  if (geo.oh !== g[2] || geo.ow !== g[3] || geo.o !== g[1]) throw new Error(`conv2d_grad_input: gradient [${g}] does not match input size ${h}×${w} and weight [${wt}]`);
  return geo;
}

function gradWeightGeometry([x, g]: Shape[], attrs: Conv2dGradWeightAttrs): Geometry {
  rank4(x, 'input');
  rank4(g, 'output gradient');
  const [kh, kw] = pair(attrs.kernel_size, 0, 'kernel_size');
  const geo = geometry(x, [g[1], x[1], kh, kw], attrs);
  if (geo.oh !== g[2] || geo.ow !== g[3] || geo.n !== g[0]) throw new Error(`conv2d_grad_weight: gradient [${g}] does not match input [${x}] and kernel ${kh}×${kw}`);
  return geo;
}

const convFlops = (g: Geometry) => 2 * g.n * g.o * g.oh * g.ow * g.c * g.kh * g.kw;

// ---------------------------------------------------------------------------------------------
// Float64 references: the definition, one loop nest, shared by all three directions.

/** Calls `visit(yIndex, xIndex, wIndex)` for every multiply of the convolution that touches a real pixel. */
function eachTap(g: Geometry, visit: (yi: number, xi: number, wi: number) => void): void {
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const yi = ((n * g.o + o) * g.oh + oy) * g.ow + ox;
          for (let c = 0; c < g.c; c++)
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                visit(yi, ((n * g.c + c) * g.h + iy) * g.w + ix, ((o * g.c + c) * g.kh + ky) * g.kw + kx);
              }
            }
        }
}

function referenceForward(g: Geometry, x: Float64Array, w: Float64Array, bias?: Float64Array): Float64Array {
  const y = new Float64Array(g.n * g.o * g.oh * g.ow);
  eachTap(g, (yi, xi, wi) => (y[yi] += x[xi] * w[wi]));
  if (bias) for (let i = 0; i < y.length; i++) y[i] += bias[Math.floor(i / (g.oh * g.ow)) % g.o];
  return y;
}

// ---------------------------------------------------------------------------------------------
// WGSL

/** The uniform every convolution program reads; `aux` is the program's own extra number. */
const PARAMS = `struct Params {
  n: u32, c: u32, h: u32, w: u32,
  o: u32, oh: u32, ow: u32, kh: u32,
  kw: u32, sh: u32, sw: u32, ph: u32,
  pw: u32, aux: u32,
}
@group(0) @binding(0) var<uniform> p: Params;`;

const params = (g: Geometry, aux: number) => ({ values: [g.n, g.c, g.h, g.w, g.o, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, aux] });

const WG = 64;
const LANES = ['x', 'y', 'z', 'w'];

/** Register tile of an invocation: `vecs` 4-vectors of channels × `px` pixels. */
interface Tile {
  vecs: number;
  px: number;
}

/**
 * On lavapipe more work per invocation amortises the gathers: 16 channels × 12 pixels runs the bench
 * convnet's 14×14 and 7×7 convolutions and input gradients 1.3–1.5× faster than 8 × 8, which ran
 * 1.2–1.3× faster than 8 × 4 (issue 16, one process, interleaved: 16 × 8 and 16 × 16 came close,
 * 32 × 8, 32 × 4, 16 × 6, 12 × 12 and 4 × 16 were slower). A GPU wants more invocations. A channel
 * vector beyond the channels there are is pure waste (∂x of a 1-channel image), hence the smaller
 * tiles for few channels.
 */
function tileFor(target: Target, channels: number): Tile {
  if (!target.isSoftware || channels <= 4) return { vecs: 1, px: 4 };
  return channels >= 16 ? { vecs: 4, px: 12 } : { vecs: 2, px: 8 };
}

const range = (k: number) => [...Array(k).keys()];

/** Indices every invocation of a workgroup shares come from `wg`, so a compiler can see them uniform. */
const ENTRY = `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u)`;

/**
 * out[b, s, r] = in[b, r, s] for r < R, zero up to `rpad`: the weight with the channels a kernel
 * runs along moved innermost, padded to whole tiles, so they load as 4-vectors.
 */
const TRANSPOSE = /* wgsl */ `
struct Params { b: u32, r: u32, s: u32, rpad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = id.x + id.y * nw.x * 256u;
  if (i >= p.b * p.s * p.rpad) { return; }
  let r = i % p.rpad;
  let s = (i / p.rpad) % p.s;
  let b = i / (p.rpad * p.s);
  dst[i] = select(0.0, src[(b * p.r + min(r, p.r - 1u)) * p.s + s], r < p.r);
}`;

function transpose([b, r, s, rpad]: number[], target: Target): Program {
  return { label: 'conv2d_weight_transpose', code: TRANSPOSE, groups: elementGrid(b * s * rpad, target), params: { values: [b, r, s, rpad] }, bindings: ['in:1', 'tmp:0'] };
}

/**
 * src [planes, h, w] → dst [planes, hp, wp], placed at (top, left) with zeros around: one invocation
 * per padded row, so the only divisions are one per row.
 */
const PAD = /* wgsl */ `
struct Params { rows: u32, h: u32, w: u32, top: u32, left: u32, hp: u32, wp: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let r = id.x + id.y * nw.x * 64u;
  if (r >= p.rows) { return; }
  let iy = i32(r % p.hp) - i32(p.top);
  let inside = iy >= 0 && iy < i32(p.h);
  let head = ((r / p.hp) * p.h + u32(iy)) * p.w;
  for (var x = 0u; x < p.wp; x++) {
    let ix = i32(x) - i32(p.left);
    let ok = inside && ix >= 0 && ix < i32(p.w);
    dst[r * p.wp + x] = select(0.0, src[select(0u, head + u32(ix), ok)], ok);
  }
}`;

/** Zeros added around each plane: [top, bottom, left, right]. */
type Margins = [number, number, number, number];

interface Padding {
  programs: Program[];
  bytes: number[];
  /** Where the kernel reads the (padded) tensor. */
  binding: string;
  /** The scratch that copies the input, for KernelPlan.scratchCopies. */
  copies: Record<number, string>;
}

/** Planes of `h`×`w` copied into scratch `tmp:K` with `margins`; nothing when there are none. */
function pad(planes: number, h: number, w: number, [top, bottom, left, right]: Margins, input: string, scratch: number, target: Target): Padding {
  if (top + bottom + left + right === 0) return { programs: [], bytes: [], binding: input, copies: {} };
  const [hp, wp] = [h + top + bottom, w + left + right];
  const rows = planes * hp;
  const groups = ceilDiv(rows, 64);
  const x = Math.min(groups, target.maxWorkgroupsPerDimension);
  return {
    programs: [{ label: 'conv2d_pad', code: PAD, groups: [x, ceilDiv(groups, x)], params: { values: [rows, h, w, top, left, hp, wp] }, bindings: [input, `tmp:${scratch}`] }],
    bytes: [rows * wp * 4],
    binding: `tmp:${scratch}`,
    copies: { [scratch]: input },
  };
}

/**
 * The input as the forward and weight-gradient kernels read it, zero-padded, and the geometry of
 * the same convolution without padding.
 */
function paddedInput(g: Geometry, scratch: number, target: Target): Padding & { geo: Geometry } {
  const geo = { ...g, h: g.h + 2 * g.ph, w: g.w + 2 * g.pw, ph: 0, pw: 0 };
  return { ...pad(g.n * g.c, g.h, g.w, [g.ph, g.ph, g.pw, g.pw], 'in:0', scratch, target), geo };
}

/**
 * ∂y as the input-gradient kernel reads it: with margins wide enough that every tap of every input
 * pixel lands inside, and the geometry that says so (T more rows on top are T·sh more padding).
 */
function paddedGradient(g: Geometry, scratch: number, target: Target): Padding & { geo: Geometry } {
  const top = Math.max(0, ceilDiv(g.kh - 1 - g.ph, g.sh));
  const bottom = Math.max(0, Math.floor((g.h - 1 + g.ph) / g.sh) - g.oh + 1);
  const left = Math.max(0, ceilDiv(g.kw - 1 - g.pw, g.sw));
  const right = Math.max(0, Math.floor((g.w - 1 + g.pw) / g.sw) - g.ow + 1);
  const geo = { ...g, oh: g.oh + top + bottom, ow: g.ow + left + right, ph: g.ph + top * g.sh, pw: g.pw + left * g.sw };
  return { ...pad(g.n * g.o, g.oh, g.ow, [top, bottom, left, right], 'in:0', scratch, target), geo };
}

/** 4-vectors per transposed weight row: `channels` rounded up to whole tiles. */
const vecRow = (channels: number, { vecs }: { vecs: number }) => ceilDiv(channels, 4 * vecs) * vecs;

/** Lines that accumulate one tap: weight vectors `wv_i` times pixel values `v_j`. */
function accumulate(t: Tile): string {
  return range(t.px)
    .flatMap((j) => range(t.vecs).map((i) => `acc${j}_${i} = fma(wv${i}, vec4f(v${j}), acc${j}_${i});`))
    .join('\n        ');
}

/** Stores acc{j}_{i}.lane to out[(n_j * count + ch) * plane + pos_j] for real channels, and pixels where in_j (`guarded`). */
function store(t: Tile, out: string, count: string, plane: string, extra = '', guarded = true): string {
  return range(t.px)
    .map((j) => {
      const lanes = range(t.vecs).flatMap((i) =>
        LANES.map((l, li) => `{ let ch = (vb + ${i}u) * 4u + ${li}u; if (ch < ${count}) { ${out}[(n${j} * ${count} + ch) * ${plane} + pos${j}] = acc${j}_${i}.${l}${extra}; } }`),
      );
      return guarded ? `if (in${j}) {\n    ${lanes.join('\n    ')}\n  }` : lanes.join('\n  ');
    })
    .join('\n  ');
}

/**
 * The pixels of this invocation: the batch's planes of `pixels` run one after the other along x, so
 * no workgroup idles at the end of a small plane (7×7 would leave 3/4 of 64 lanes idle). Pixel j is
 * q_j of sample n_j (past the end, in_j is false and it repeats the last one); `vb` is the first
 * channel vector; the sums start at zero.
 */
function pixelHeader(t: Tile, pixels: string): string {
  return `let npix = ${pixels};
  let total = p.n * npix;
  let qb = gid.x * ${t.px}u;
  if (qb >= total) { return; }
  let vb = wg.y * ${t.vecs}u;
  ${range(t.px)
    .map((j) => `let in${j} = qb + ${j}u < total;\n  let n${j} = min(qb + ${j}u, total - 1u) / npix;\n  let q${j} = min(qb + ${j}u, total - 1u) % npix;`)
    .join('\n  ')}
  ${range(t.px * t.vecs)
    .map((k) => `var acc${Math.floor(k / t.vecs)}_${k % t.vecs} = vec4f(0.0);`)
    .join('\n  ')}`;
}

/** The forward kernels' uniform and bindings: padded x, transposed weight, the bias if any, y. */
const forwardHeader = (bias: boolean) => `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> y: array<f32>;`;

/**
 * y[n, o, q] for a block of output channels × pixels. The input arrives zero-padded
 * (`paddedInput`), so no tap needs a bounds check.
 */
function forwardWgsl(t: Tile, bias: boolean): string {
  const pixels = range(t.px);
  return /* wgsl */ `${forwardHeader(bias)}
${ENTRY} {
  ${pixelHeader(t, 'p.oh * p.ow')}
  ${pixels.map((j) => `let off${j} = n${j} * p.c * p.h * p.w + (q${j} / p.ow) * p.sh * p.w + (q${j} % p.ow) * p.sw;`).join('\n  ')}
  // Channels innermost: the longest loop, stepping one plane and one kernel per channel.
  let hw = p.h * p.w;
  let taps = p.kh * p.kw;
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      ${pixels.map((j) => `var at${j} = off${j} + ky * p.w + kx;`).join('\n      ')}
      var k = ky * p.kw + kx;
      for (var c = 0u; c < p.c; c++) {
        ${range(t.vecs).map((i) => `let wv${i} = wt[k * p.aux + vb + ${i}u];`).join('\n        ')}
        ${pixels.map((j) => `let v${j} = x[at${j}];`).join('\n        ')}
        ${accumulate(t)}
        ${pixels.map((j) => `at${j} += hw;`).join('\n        ')}
        k += taps;
      }
    }
  }
  ${pixels.map((j) => `let pos${j} = q${j};`).join('\n  ')}
  ${store(t, 'y', 'p.o', 'npix', bias ? ' + bias[ch]' : '')}
}`;
}

/**
 * y for a segment of `t.px` pixels of one output row (stride 1 along x). Per (c, ky) the segment's x
 * values are loaded once; each further kx shifts them by one and loads one new value, so a segment
 * costs px + kw − 1 x loads for kw·px taps instead of kw·px. The last segment of a row is shifted
 * left to end at the row's end, so every read is inside the row; pixels two segments share are
 * written twice with one value.
 */
function forwardRowWgsl(t: Tile, bias: boolean): string {
  const pixels = range(t.px);
  return /* wgsl */ `${forwardHeader(bias)}
${ENTRY} {
  let segs = (p.ow + ${t.px - 1}u) / ${t.px}u;
  let r = gid.x;
  if (r >= p.n * p.oh * segs) { return; }
  let vb = wg.y * ${t.vecs}u;
  let n = r / (p.oh * segs);
  let oy = (r / segs) % p.oh;
  let ox0 = min((r % segs) * ${t.px}u, p.ow - ${t.px}u);
  ${range(t.px * t.vecs)
    .map((k) => `var acc${Math.floor(k / t.vecs)}_${k % t.vecs} = vec4f(0.0);`)
    .join('\n  ')}
  let hw = p.h * p.w;
  let xb = n * p.c * hw + oy * p.sh * p.w + ox0;
  var k = 0u;
  for (var c = 0u; c < p.c; c++) {
    for (var ky = 0u; ky < p.kh; ky++) {
      let at = xb + c * hw + ky * p.w;
      ${pixels.map((j) => `var v${j} = x[at + ${j}u];`).join('\n      ')}
      for (var kx = 0u; kx < p.kw; kx++) {
        ${range(t.vecs).map((i) => `let wv${i} = wt[k * p.aux + vb + ${i}u];`).join('\n        ')}
        ${accumulate(t)}
        // The last kx loads a value it never uses, from inside the row.
        ${pixels.slice(1).map((j) => `v${j - 1} = v${j};`).join('\n        ')}
        v${t.px - 1} = x[at + min(kx + ${t.px}u, p.kw + ${t.px - 2}u)];
        k++;
      }
    }
  }
  let npix = p.oh * p.ow;
  ${pixels.map((j) => `let n${j} = n;\n  let pos${j} = oy * p.ow + ox0 + ${j}u;`).join('\n  ')}
  ${store(t, 'y', 'p.o', 'npix', bias ? ' + bias[ch]' : '', false)}
}`;
}

/**
 * ∂x[n, c, iy, ix]: the sum over o, kh, kw of ∂y at the output pixel each tap came from. With a
 * stride, only the taps congruent to the input pixel's phase (iy mod sh, ix mod sw) reach an output
 * pixel, so each workgroup takes one phase (`wg.z`): its taps are then the same for every lane and
 * none is wasted, and its pixels (iy, ix) = (py + sh·a, px + sw·b) walk a plane of
 * a × b on which tap (ky, kx) reads ∂y at (a + ry, b + rx) with ry, rx fixed per tap. ∂y arrives
 * with zero margins (`paddedGradient`), so no read needs a bounds check.
 */
function gradInputWgsl(t: Tile): string {
  const pixels = range(t.px);
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${ENTRY} {
  let py = wg.z / p.sw;
  let px = wg.z % p.sw;
  if (py >= p.h || px >= p.w) { return; }
  let wb = (p.w - px + p.sw - 1u) / p.sw;
  ${pixelHeader(t, '((p.h - py + p.sh - 1u) / p.sh) * wb')}
  ${pixels.map((j) => `let a${j} = i32(q${j} / wb);\n  let b${j} = i32(q${j} % wb);\n  let nb${j} = n${j} * p.o * p.oh;`).join('\n  ')}
  // The phase's first tap and its offsets; each further tap (sh, sw apart) is one output pixel
  // nearer: no division in the loops (lavapipe runs a vector division lane by lane).
  let ky0 = (py + p.ph) % p.sh;
  let kx0 = (px + p.pw) % p.sw;
  let ry0 = i32((py + p.ph) / p.sh);
  let rx0 = i32((px + p.pw) / p.sw);
  // Output channels innermost: the longest loop, stepping one plane and one kernel per channel.
  let ohw = p.oh * p.ow;
  let taps = p.kh * p.kw;
  var ry = ry0;
  for (var ky = ky0; ky < p.kh; ky += p.sh) {
    var rx = rx0;
    for (var kx = kx0; kx < p.kw; kx += p.sw) {
      ${pixels.map((j) => `var at${j} = (nb${j} + u32(a${j} + ry)) * p.ow + u32(b${j} + rx);`).join('\n      ')}
      var k = ky * p.kw + kx;
      for (var o = 0u; o < p.o; o++) {
        ${range(t.vecs).map((i) => `let wv${i} = wt[k * p.aux + vb + ${i}u];`).join('\n        ')}
        ${pixels.map((j) => `let v${j} = g[at${j}];`).join('\n        ')}
        ${accumulate(t)}
        ${pixels.map((j) => `at${j} += ohw;`).join('\n        ')}
        k += taps;
      }
      rx--;
    }
    ry--;
  }
  ${pixels.map((j) => `let pos${j} = (py + p.sh * u32(a${j})) * p.w + px + p.sw * u32(b${j});`).join('\n  ')}
  ${store(t, 'dx', 'p.c', 'p.h * p.w')}
}`;
}

/** Register tile of the weight gradient: `taps` taps (c, kh, kw) × `vecs` 4-vectors of output channels. */
interface WeightTile {
  taps: number;
  vecs: number;
}

/**
 * Each row loads ∂y once per output channel and x once per tap; on lavapipe 16 taps × 8 channels did best.
 * Measured and dropped (issue 16): 24 or 32 taps, 16 taps × 4 channels, and a variant whose
 * workgroup shares one chunk of rows (lanes over taps, so ∂y's address is the same in every lane)
 * with 3–6 taps × 8 or 16 channels per lane: all ran 1.2–2.5× slower on the bench convnet's
 * 32→64 and 64→128 gradients. Lavapipe did not make those ∂y loads any cheaper than per-lane ones,
 * and more channels per lane cost more than the fewer x loads saved.
 */
const weightTileFor = (target: Target): WeightTile => (target.isSoftware ? { taps: 16, vecs: 2 } : { taps: 4, vecs: 1 });

/**
 * Partial ∂w[o, tap] over one chunk (`p.aux` rows) of the N·OH·OW rows of the implicit GEMM:
 * invocation `gid.x` owns a block of taps of one chunk, workgroup `wg.y` a block of output
 * channels. Chunks run along the invocations too, since a 1-channel stem has only 9 taps to spread
 * over them. Rows run in order with incremented coordinates, so there is no division in the loop,
 * and the input arrives zero-padded, so there are no bounds checks.
 */
function gradWeightWgsl(t: WeightTile): string {
  const taps = range(t.taps);
  const chans = range(t.vecs * 4);
  const gv = (i: number) => `vec4f(${range(4).map((l) => `g[gb + go${i * 4 + l}]`).join(', ')})`;
  return /* wgsl */ `${PARAMS}
${weightHeader('taps', 'p.c * p.kh * p.kw', 'tb', t.taps, 'p.n * p.oh * p.ow', t.vecs)}
  // Taps and channels past the end are clamped to real ones; their sums are never stored.
  ${taps
    .map(
      (j) => `let t${j} = min(tb + ${j}u, taps - 1u);
  let kxy${j} = t${j} % (p.kh * p.kw);
  let toff${j} = (t${j} / (p.kh * p.kw)) * hw + (kxy${j} / p.kw) * p.w + kxy${j} % p.kw;
  ${range(t.vecs).map((i) => `var acc${j}_${i} = vec4f(0.0);`).join('\n  ')}`,
    )
    .join('\n  ')}
  ${chans.map((l) => `let go${l} = min(o0 + ${l}u, p.o - 1u) * npix;`).join('\n  ')}
  let r0 = chunk * p.aux;
  let r1 = min(r0 + p.aux, p.n * npix);
  var n = r0 / npix;
  var q = r0 % npix;
  var oy = q / p.ow;
  var ox = q % p.ow;
  for (var r = r0; r < r1; r++) {
    let gb = n * p.o * npix + q;
    ${range(t.vecs).map((i) => `let gv${i} = ${gv(i)};`).join('\n    ')}
    let xb = n * p.c * hw + oy * p.sh * p.w + ox * p.sw;
    ${taps
      .map(
        (j) => `{
      let v = vec4f(x[xb + toff${j}]);
      ${range(t.vecs).map((i) => `acc${j}_${i} = fma(gv${i}, v, acc${j}_${i});`).join('\n      ')}
    }`,
      )
      .join('\n    ')}
    q++;
    ox++;
    if (ox == p.ow) {
      ox = 0u;
      oy++;
      if (oy == p.oh) { oy = 0u; n++; q = 0u; }
    }
  }
  let base = chunk * p.o * taps;
  ${taps
    .map(
      (j) =>
        `if (tb + ${j}u < taps) {\n    ${chans.map((l) => `if (o0 + ${l}u < p.o) { part[base + (o0 + ${l}u) * taps + t${j}] = acc${j}_${l >> 2}.${LANES[l & 3]}; }`).join('\n    ')}\n  }`,
    )
    .join('\n  ')}
}`;
}

/** Register tile of the row-walking weight gradient: `pairs` (c, ky) pairs × kw taps × `vecs` 4-vectors of output channels. */
interface RowTile {
  pairs: number;
  vecs: number;
}

/**
 * For stride 1 along x, tap (c, ky, kx) at output pixel ox reads the x that tap kx + 1 read at ox − 1,
 * so an invocation that owns every kx of its (c, ky) pairs and walks whole output rows keeps a window
 * of kw x values per pair and loads one new one per pixel: 4·vecs ∂y and `pairs` x loads per pixel
 * for vecs·kw·pairs vec4 FMAs (14 loads for 36 at 6 pairs × 8 channels, 3×3), where gradWeightWgsl
 * has 24 loads for 32. Chunks are whole lines (n, oy), so
 * the windows restart only at line ends. kw is baked in: the window is registers.
 */
function gradWeightRowsWgsl(t: RowTile, kw: number): string {
  const pairs = range(t.pairs);
  const chans = range(t.vecs * 4);
  const ks = range(kw);
  const gv = (i: number) => `vec4f(${range(4).map((l) => `g[gb + go${i * 4 + l}]`).join(', ')})`;
  return /* wgsl */ `${PARAMS}
${weightHeader('pairs', 'p.c * p.kh', 'pb', t.pairs, 'lines', t.vecs, '\n  let lines = p.n * p.oh;')}
  // Pairs and channels past the end are clamped to real ones; their sums are never stored.
  ${pairs
    .map(
      (j) => `let pr${j} = min(pb + ${j}u, pairs - 1u);
  let poff${j} = (pr${j} / p.kh) * hw + (pr${j} % p.kh) * p.w;
  ${ks.flatMap((k) => range(t.vecs).map((i) => `var acc${j}_${k}_${i} = vec4f(0.0);`)).join('\n  ')}`,
    )
    .join('\n  ')}
  ${chans.map((l) => `let go${l} = min(o0 + ${l}u, p.o - 1u) * npix;`).join('\n  ')}
  let l0 = chunk * p.aux;
  let l1 = min(l0 + p.aux, lines);
  var n = l0 / p.oh;
  var oy = l0 % p.oh;
  for (var line = l0; line < l1; line++) {
    let xb = n * p.c * hw + oy * p.sh * p.w;
    let gb0 = n * p.o * npix + oy * p.ow;
    ${pairs.map((j) => [`let xa${j} = xb + poff${j};`, ...range(kw - 1).map((k) => `var w${j}_${k} = x[xa${j} + ${k}u];`)].join('\n    ')).join('\n    ')}
    for (var ox = 0u; ox < p.ow; ox++) {
      let gb = gb0 + ox;
      ${range(t.vecs).map((i) => `let gv${i} = ${gv(i)};`).join('\n      ')}
      ${pairs.map((j) => `let w${j}_${kw - 1} = x[xa${j} + ox + ${kw - 1}u];`).join('\n      ')}
      ${pairs.flatMap((j) => ks.flatMap((k) => range(t.vecs).map((i) => `acc${j}_${k}_${i} = fma(gv${i}, vec4f(w${j}_${k}), acc${j}_${k}_${i});`))).join('\n      ')}
      ${pairs.flatMap((j) => range(kw - 1).map((k) => `w${j}_${k} = w${j}_${k + 1};`)).join('\n      ')}
    }
    oy++;
    if (oy == p.oh) { oy = 0u; n++; }
  }
  let taps = pairs * ${kw}u;
  let base = chunk * p.o * taps;
  ${pairs
    .map(
      (j) =>
        `if (pb + ${j}u < pairs) {\n    ${ks.flatMap((k) => chans.map((l) => `if (o0 + ${l}u < p.o) { part[base + (o0 + ${l}u) * taps + pr${j} * ${kw}u + ${k}u] = acc${j}_${k}_${l >> 2}.${LANES[l & 3]}; }`)).join('\n    ')}\n  }`,
    )
    .join('\n  ')}
}`;
}

/**
 * The weight gradients' bindings and first lines: `count` units (taps, or (c, ky) pairs) in blocks of
 * `width`, this invocation's from `first`, its chunk of `rows` (none past them), and `o0`, its first
 * output channel.
 */
function weightHeader(unit: string, count: string, first: string, width: number, rows: string, vecs: number, extra = ''): string {
  return `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
${ENTRY} {
  let ${unit} = ${count};${extra}
  let blocks = (${unit} + ${width - 1}u) / ${width}u;
  let ${first} = (gid.x % blocks) * ${width}u;
  let chunk = gid.x / blocks;
  if (chunk * p.aux >= ${rows}) { return; }
  let o0 = wg.y * ${vecs * 4}u;
  let npix = p.oh * p.ow;
  let hw = p.h * p.w;`;
}

/** dst[i] = Σ_s part[s·len + i]: the chunks' partial sums, added in a fixed order (deterministic). */
const SUM_CHUNKS = /* wgsl */ `
struct Params { len: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = id.x + id.y * nw.x * 256u;
  if (i >= p.len) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.chunks; k++) { s += part[k * p.len + i]; }
  dst[i] = s;
}`;

/**
 * How many chunks the N·OH·OW reduction of the weight gradient is split into: enough invocations to
 * fill the device (few channels × taps leave most of it idle otherwise), each chunk still long.
 */
function gradWeightChunks(g: Geometry, t: WeightTile, target: Target): number {
  const blocks = ceilDiv(g.c * g.kh * g.kw, t.taps) * ceilDiv(g.o, 4 * t.vecs);
  const wanted = target.isSoftware ? 1024 : 16384;
  return Math.max(1, Math.min(ceilDiv(wanted, blocks), ceilDiv(g.n * g.oh * g.ow, 256)));
}

/**
 * The row-walking weight gradient (software targets, stride 1 along x): 6 pairs × 8 channels, or
 * fewer pairs spread evenly when there are few. Measured on the bench convnet (issue 16, one process,
 * interleaved): 1.35–1.5× faster than gradWeightWgsl at 32→64 14×14 and 64→128 7×7, 1.8× on the
 * 1→32 stem; 3–5 pairs and 8–9 pairs were slower, 16 channels no faster, and a workgroup sharing one
 * chunk (∂y at one address in all lanes) no faster; two pixels per loop iteration were 1.2–1.6×
 * slower at 14×14. More chunks than for gradWeightWgsl (4096 invocations) helped the 7×7 gradient;
 * fewer than 64 lines a chunk slowed the stem.
 */
function gradWeightRows(g: Geometry, target: Target): KernelPlan {
  const pairs = g.c * g.kh;
  const t: RowTile = { pairs: ceilDiv(pairs, ceilDiv(pairs, 6)), vecs: 2 };
  const blocks = ceilDiv(pairs, t.pairs);
  const lines = g.n * g.oh;
  const chunks = Math.max(1, Math.min(ceilDiv(4096, blocks * ceilDiv(g.o, 4 * t.vecs)), Math.floor(lines / 64)));
  return gradWeightPlan(g, gradWeightRowsWgsl(t, g.kw), ceilDiv(blocks * chunks, WG), ceilDiv(g.o, 4 * t.vecs), chunks, lines, target);
}

/**
 * A weight gradient's programs: the input padded, then `code` on groups [x, y] writing each of
 * `chunks` chunks of the `rows` rows (lines) its partial sums, then their sum.
 */
function gradWeightPlan(g: Geometry, code: string, x: number, y: number, chunks: number, rows: number, target: Target): KernelPlan {
  const len = g.o * g.c * g.kh * g.kw;
  const pad = paddedInput(g, 1, target);
  return {
    scratchBytes: [chunks * len * 4, ...pad.bytes],
    scratchCopies: pad.copies,
    programs: [
      ...pad.programs,
      { label: 'conv2d_grad_weight', code, groups: [x, y], params: params(pad.geo, ceilDiv(rows, chunks)), bindings: [pad.binding, 'in:1', 'tmp:0'] },
      { label: 'conv2d_grad_weight_sum', code: SUM_CHUNKS, groups: elementGrid(len, target), params: { values: [len, chunks] }, bindings: ['tmp:0', 'out:0'] },
    ],
  };
}

/**
 * The row-window forward (software targets, stride 1 along x, fewer than 16 input channels): the
 * channel tile of tileFor × segments of up to 16 pixels. Measured (issue 16, one process,
 * interleaved, n = 512, 3×3, padding 1, 32 output channels): 1.6–1.9× faster than forwardWgsl for
 * 1 input channel at 28×28, 1.3–1.6× for 3 at 32×32 and 8 at 28×28, even at 16, and at 32 and 64
 * input channels (14×14, 7×7) even to 1.4× slower; 8-channel tiles for 8 and 16 input channels, and
 * two rows of 7 per invocation at 7×7, were slower too.
 */
function forwardRows(g: Geometry, bias: boolean, target: Target): KernelPlan {
  const segs = ceilDiv(g.ow, 16);
  const t: Tile = { vecs: tileFor(target, g.o).vecs, px: ceilDiv(g.ow, segs) };
  return forwardPlan(g, t, forwardRowWgsl(t, bias), ceilDiv(g.n * g.oh * segs, WG), bias, target);
}

/** A forward's programs: the weight transposed, the input padded, then `code` on `groups` × the channel blocks. */
function forwardPlan(g: Geometry, t: Tile, code: string, groups: number, bias: boolean, target: Target): KernelPlan {
  const row = vecRow(g.o, t);
  const taps = g.c * g.kh * g.kw;
  const pad = paddedInput(g, 1, target);
  return {
    scratchBytes: [taps * row * 16, ...pad.bytes],
    scratchCopies: pad.copies,
    programs: [
      transpose([1, g.o, taps, row * 4], target),
      ...pad.programs,
      {
        label: bias ? 'conv2d_bias' : 'conv2d',
        code,
        groups: [groups, row / t.vecs],
        params: params(pad.geo, row),
        bindings: bias ? [pad.binding, 'tmp:0', 'in:2', 'out:0'] : [pad.binding, 'tmp:0', 'out:0'],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The ops

defineOp<Conv2dAttrs>({
  name: 'conv2d',
  shape([x, w, b], attrs) {
    rank4(x, 'input');
    rank4(w, 'weight');
    if (b && (b.length !== 1 || b[0] !== w[0])) throw new Error(`conv2d bias must be [${w[0]}], got [${b}]`);
    const g = geometry(x, w, attrs);
    return [[g.n, g.o, g.oh, g.ow]];
  },
  reference: ([x, w, b], [xs, ws], attrs) => [referenceForward(geometry(xs, ws, attrs), x, w, b)],
  kernel([xs, ws, bs], attrs, target) {
    const g = geometry(xs, ws, attrs);
    if (target.isSoftware && g.sw === 1 && g.c < 16) return forwardRows(g, !!bs, target);
    const t = tileFor(target, g.o);
    return forwardPlan(g, t, forwardWgsl(t, !!bs), ceilDiv(g.n * g.oh * g.ow, t.px * WG), !!bs, target);
  },
  grad({ inputs: [x, w, b], grads: [gy], attrs, emit }) {
    if (!gy) return [undefined, undefined, undefined];
    const conv = { stride: attrs.stride, padding: attrs.padding };
    return [
      emit('conv2d_grad_input', [gy, w], { ...conv, input_size: x.shape.slice(2) })[0],
      emit('conv2d_grad_weight', [x, gy], { ...conv, kernel_size: w.shape.slice(2) })[0],
      b && emit('conv2d_grad_bias', [gy])[0],
    ];
  },
  flops: ([x, w, b], attrs) => {
    const g = geometry(x, w, attrs);
    return convFlops(g) + (b ? g.n * g.o * g.oh * g.ow : 0);
  },
});

/** ∂x of conv2d: inputs [∂y, w]; attrs as conv2d plus the input's size. */
defineOp<Conv2dGradInputAttrs>({
  name: 'conv2d_grad_input',
  shape(shapes, attrs) {
    const g = gradInputGeometry(shapes, attrs);
    return [[g.n, g.c, g.h, g.w]];
  },
  reference([gy, w], shapes, attrs) {
    const g = gradInputGeometry(shapes, attrs);
    const dx = new Float64Array(g.n * g.c * g.h * g.w);
    eachTap(g, (yi, xi, wi) => (dx[xi] += gy[yi] * w[wi]));
    return [dx];
  },
  kernel(shapes, attrs, target) {
    const g = gradInputGeometry(shapes, attrs);
    const t = tileFor(target, g.c);
    const row = vecRow(g.c, t);
    const taps = g.kh * g.kw;
    const pad = paddedGradient(g, 1, target);
    return {
      scratchBytes: [g.o * taps * row * 16, ...pad.bytes],
      scratchCopies: pad.copies,
      programs: [
        transpose([g.o, g.c, taps, row * 4], target),
        ...pad.programs,
        {
          label: 'conv2d_grad_input',
          code: gradInputWgsl(t),
          groups: [ceilDiv(g.n * ceilDiv(g.h, g.sh) * ceilDiv(g.w, g.sw), t.px * WG), row / t.vecs, g.sh * g.sw],
          params: params(pad.geo, row),
          bindings: [pad.binding, 'tmp:0', 'out:0'],
        },
      ],
    };
  },
  flops: (shapes, attrs) => convFlops(gradInputGeometry(shapes, attrs)),
});

/** ∂w of conv2d: inputs [x, ∂y]; attrs as conv2d plus the kernel's size. */
defineOp<Conv2dGradWeightAttrs>({
  name: 'conv2d_grad_weight',
  shape(shapes, attrs) {
    const g = gradWeightGeometry(shapes, attrs);
    return [[g.o, g.c, g.kh, g.kw]];
  },
  reference([x, gy], shapes, attrs) {
    const g = gradWeightGeometry(shapes, attrs);
    const dw = new Float64Array(g.o * g.c * g.kh * g.kw);
    eachTap(g, (yi, xi, wi) => (dw[wi] += gy[yi] * x[xi]));
    return [dw];
  },
  kernel(shapes, attrs, target) {
    const g = gradWeightGeometry(shapes, attrs);
    if (target.isSoftware && g.sw === 1) return gradWeightRows(g, target);
    const t = weightTileFor(target);
    const chunks = gradWeightChunks(g, t, target);
    const x = ceilDiv(ceilDiv(g.c * g.kh * g.kw, t.taps) * chunks, WG);
    return gradWeightPlan(g, gradWeightWgsl(t), x, ceilDiv(g.o, 4 * t.vecs), chunks, g.n * g.oh * g.ow, target);
  },
  flops: (shapes, attrs) => convFlops(gradWeightGeometry(shapes, attrs)),
});

/** ∂b of conv2d: ∂y summed over batch and pixels, per output channel. */
defineOp({
  name: 'conv2d_grad_bias',
  shape([gy]) {
    rank4(gy, 'output gradient');
    return [[gy[1]]];
  },
  reference([gy], [[, o, h, w]]) {
    const db = new Float64Array(o);
    for (let i = 0; i < gy.length; i++) db[Math.floor(i / (h * w)) % o] += gy[i];
    return [db];
  },
  kernel([[n, o, h, w]]) {
    return { programs: [{ label: 'conv2d_grad_bias', code: channelSumWgsl, groups: [o], params: { values: [n, o, h * w] }, bindings: ['in:0', 'out:0'] }] };
  },
  flops: ([s]) => numel(s),
});
