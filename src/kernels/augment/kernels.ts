// WGSL for one view stage. A workgroup owns one image: it loops over the image's pixels, and where
// contrast needs the image's mean it stores, reduces in workgroup memory and continues in a second
// sweep, so a whole colour jitter stays inside one kernel. Views stack in one tensor (view 1's rows,
// then view 2's), and the scratch image has the same layout, so a view's pass reaches its rows in
// both at an offset of view·count images.
import { lit, type ParamLayout } from './params.js';
import type { Stage } from './stages.js';
import type { AugOp, SourceLayout } from './types.js';

/** rgb_to_grayscale weights of torchvision (0.2989, not 0.299). */
export const GRAY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

export interface StageContext {
  ops: AugOp[];
  view: number;
  layout: ParamLayout;
  source: SourceLayout;
  workgroup: number;
}

const HEADER = (wg: number) => /* wgsl */ `
struct U { count: u32, views: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, view: u32, _p0: u32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> params: array<f32>;
var<workgroup> red: array<f32, ${wg}>;
`;

function commonFns(ctx: StageContext): string {
  const c = ctx.source.channels;
  const gray = c === 3 ? `dot(c, vec3f(${GRAY_WEIGHTS.map(lit).join(', ')}))` : 'c.x';
  return /* wgsl */ `
fn gray(c: vec3f) -> f32 { return ${gray}; }
fn blend(a: vec3f, b: vec3f, r: f32) -> vec3f { return clamp(r * a + (1.0 - r) * b, vec3f(0.0), vec3f(1.0)); }
fn reduce_sum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${ctx.workgroup / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}
fn image_index(n: u32, ch: u32, i: u32) -> u32 { return ((u.view * u.count + n) * ${c}u + ch) * u.out_h * u.out_w + i; }`;
}

/** torchvision's _rgb2hsv / _hsv2rgb round trip with the hue shifted (mod 1). */
const HUE_WGSL = /* wgsl */ `
fn adjust_hue(c: vec3f, factor: f32) -> vec3f {
  let maxc = max(c.x, max(c.y, c.z));
  let minc = min(c.x, min(c.y, c.z));
  let eqc = maxc == minc;
  let cr = maxc - minc;
  let s = cr / select(maxc, 1.0, eqc);
  let crd = select(cr, 1.0, eqc);
  let rc = (maxc - c.x) / crd;
  let gc = (maxc - c.y) / crd;
  let bc = (maxc - c.z) / crd;
  var h = 0.0;
  if (maxc == c.x) { h = bc - gc; } else if (maxc == c.y) { h = 2.0 + rc - bc; } else { h = 4.0 + gc - rc; }
  h = fract(fract(h / 6.0 + 1.0) + factor);
  let v = maxc;
  let i6 = floor(h * 6.0);
  let f = h * 6.0 - i6;
  let p = clamp(v * (1.0 - s), 0.0, 1.0);
  let q = clamp(v * (1.0 - s * f), 0.0, 1.0);
  let t = clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0);
  switch (u32(i6) % 6u) {
    case 0u: { return vec3f(v, t, p); }
    case 1u: { return vec3f(q, v, p); }
    case 2u: { return vec3f(p, v, t); }
    case 3u: { return vec3f(p, q, v); }
    case 4u: { return vec3f(t, p, v); }
    default: { return vec3f(v, p, q); }
  }
}`;

function jitterFns(ctx: StageContext): string {
  const rgb = ctx.source.channels === 3;
  // Saturation and hue need three channels; torchvision leaves one-channel images as they are.
  return /* wgsl */ `
${rgb ? HUE_WGSL : ''}
fn jitter_one(c: vec3f, which: u32, rec: u32) -> vec3f {
  switch (which) {
    case 0u: { return blend(c, vec3f(0.0), params[rec + 1u]); }
    ${rgb ? 'case 2u: { return blend(c, vec3f(gray(c)), params[rec + 3u]); }' : ''}
    ${rgb ? 'case 3u: { return adjust_hue(c, params[rec + 4u]); }' : ''}
    default: { return c; }
  }
}
// The ops drawn before contrast, which needs the mean of the image they produce.
fn jitter_pre(c0: vec3f, rec: u32) -> vec3f {
  var c = c0;
  if (params[rec] < 0.5) { return c; }
  for (var k = 0u; k < 4u; k++) {
    let which = u32(params[rec + 5u + k]);
    if (which == 1u) { break; }
    c = jitter_one(c, which, rec);
  }
  return c;
}
fn jitter_post(c0: vec3f, rec: u32, mean: f32) -> vec3f {
  var c = c0;
  if (params[rec] < 0.5) { return c; }
  var after = false;
  for (var k = 0u; k < 4u; k++) {
    let which = u32(params[rec + 5u + k]);
    if (after) { c = jitter_one(c, which, rec); }
    if (which == 1u) { c = blend(c, vec3f(mean), params[rec + 2u]); after = true; }
  }
  return c;
}`;
}

interface Sweeps {
  /** Lines of each sweep over the image: a contrast's mean ends one sweep. */
  sweeps: string[][];
  /** The same ops in one sweep without the jitters: what an image none of them fires on needs. */
  plain: string[];
  /** Each jitter's record offset, to test whether any fired. */
  jitters: string[];
}

function sweeps(ctx: StageContext, stage: Stage): Sweeps {
  const out: string[][] = [[]];
  const plain: string[] = [];
  const jitters: string[] = [];
  const at = (i: number) => `rec + ${ctx.layout.offsets[ctx.view][i]}u`;
  const both = (line: string) => {
    out[out.length - 1].push(line);
    plain.push(line);
  };
  for (const i of stage.pointwise) {
    const op = ctx.ops[i];
    if (op.op === 'color_jitter') {
      jitters.push(at(i));
      out[out.length - 1].push(`c = jitter_pre(c, ${at(i)});`);
      out.push([`c = jitter_post(c, ${at(i)}, mean${out.length - 1});`]);
    } else if (op.op === 'grayscale') {
      if (ctx.source.channels === 3) both(`if (params[${at(i)}] > 0.5) { c = vec3f(gray(c)); }`);
    } else if (op.op === 'normalize') {
      const ch = ctx.source.channels;
      const vec = (xs: number[]) => `vec3f(${[0, 1, 2].map((k) => lit(xs[Math.min(k, ch - 1)])).join(', ')})`;
      both(`c = (c - ${vec(op.mean)}) / ${vec(op.std)};`);
    }
  }
  return { sweeps: out, plain, jitters };
}

function storeLines(channels: number): string {
  return ['x', 'y', 'z']
    .slice(0, channels)
    .map((comp, ch) => `dst[image_index(n, ${ch}u, i)] = c.${comp};`)
    .join(' ');
}

function loadExpr(buffer: string, channels: number): string {
  return channels === 3
    ? `vec3f(${buffer}[image_index(n, 0u, i)], ${buffer}[image_index(n, 1u, i)], ${buffer}[image_index(n, 2u, i)])`
    : `vec3f(${buffer}[image_index(n, 0u, i)])`;
}

/** The sweeps' main loop; `read` yields pixel i's colour before the colour ops. */
function body(ctx: StageContext, stage: Stage, read: string, setup = ''): string {
  const { sweeps: passes, plain, jitters } = sweeps(ctx, stage);
  const ch = ctx.source.channels;
  const wg = ctx.workgroup;
  const loop = (k: number, lines: string[], more: boolean) => {
    const first = k === 0 ? `var c = ${read};` : `var c = ${loadExpr('dst', ch)};`;
    // Only the first sweep reads by position; later ones revisit their own pixels by index.
    const position = k === 0 ? 'var x = li % u.out_w;\n  var y = li / u.out_w;\n  ' : '';
    const step = k === 0 ? `\n    x += ${wg}u;\n    while (x >= u.out_w) { x -= u.out_w; y += 1u; }` : '';
    const sweep = `  ${more ? `var part${k} = 0.0;\n  ` : ''}${position}for (var i = li; i < npx; i += ${wg}u) {
    ${first}
    ${lines.join('\n    ')}
    ${storeLines(ch)}${more ? `\n    part${k} += gray(c);` : ''}${step}
  }`;
    return more ? `${sweep}\n  let mean${k} = reduce_sum(part${k}, li) / f32(npx);` : sweep;
  };
  const full = passes.map((lines, k) => loop(k, lines, k < passes.length - 1)).join('\n');
  // Most images fire no jitter: they skip the means and the extra sweeps (the test is per image,
  // so uniform across the workgroup, and the barriers stay in uniform control flow).
  const sweepsCode = jitters.length
    ? `  if (${jitters.map((j) => `params[${j}] < 0.5`).join(' && ')}) {\n${loop(0, plain, false)}\n  } else {\n${full}\n  }`
    : full;
  return `@compute @workgroup_size(${wg}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wg.x + wg.y * 65535u;
  if (n >= u.count) { return; }
  let rec = (u.view * u.count + n) * ${ctx.layout.stride}u;
  let npx = u.out_h * u.out_w;
  _ = &params; // bound whether or not this stage's ops read it: the binding layout stays fixed
  ${setup}
${sweepsCode}
}`;
}

/** Inverse maps of the geometric ops, last op first: output pixel → point in the stage's input. */
function geometry(ctx: StageContext, geo: number[], fromSource: boolean): string {
  const off = (i: number) => ctx.layout.offsets[ctx.view][i];
  const hasCrop = geo.some((i) => ctx.ops[i].op === 'random_resized_crop');
  // Ops before the crop see the source's frame; ops after it (or with no crop) the output's.
  const firstCrop = geo.findIndex((i) => ctx.ops[i].op === 'random_resized_crop');
  const frame = (k: number) => (fromSource && hasCrop && k < firstCrop ? 'vec2f(f32(u.in_w), f32(u.in_h))' : 'vec2f(f32(u.out_w), f32(u.out_h))');
  const lines: string[] = [];
  for (let k = geo.length - 1; k >= 0; k--) {
    const i = geo[k];
    const op = ctx.ops[i];
    const p = (s: number) => `params[rec + ${off(i) + s}u]`;
    if (op.op === 'flip') lines.push(`if (${p(0)} > 0.5) { q.x = ${frame(k)}.x - 1.0 - q.x; }`);
    else if (op.op === 'rotate') {
      const pad = op.padding === 'reflect' ? `q = reflect2(q, ${frame(k)});` : `inside = inside && in_frame(q, ${frame(k)});`;
      lines.push(`if (${p(0)} > 0.5) { q = rotate_inv(q, ${p(1)}, ${frame(k)}); ${pad} }`);
    } else if (op.op === 'random_resized_crop') lines.push(`q = crop_inv(q, vec4f(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}));`);
  }
  // No crop on the way from the source: the whole source is resized to the output.
  if (fromSource && !hasCrop) lines.push('q = crop_inv(q, vec4f(0.0, 0.0, f32(u.in_h), f32(u.in_w)));');
  return lines.join('\n  ');
}

const GEOMETRY_WGSL = /* wgsl */ `
// torchvision rotate: the output point (x, y) about the centre reads the input at R(-angle)(x, y).
fn rotate_inv(q: vec2f, degrees: f32, frame: vec2f) -> vec2f {
  let t = radians(degrees);
  let cs = cos(t);
  let sn = sin(t);
  let centre = (frame - 1.0) * 0.5;
  let d = q - centre;
  return vec2f(cs * d.x - sn * d.y, sn * d.x + cs * d.y) + centre;
}
fn in_frame(q: vec2f, frame: vec2f) -> bool {
  return all(q >= vec2f(-0.5)) && all(q <= frame - 0.5);
}
// Mirror about the frame's outer pixel edges (grid_sample's reflection, align_corners=False).
fn reflect2(q: vec2f, frame: vec2f) -> vec2f {
  let period = 2.0 * frame;
  var t = q + 0.5;
  t = t - period * floor(t / period);
  t = select(t, period - t, t > frame);
  return t - 0.5;
}
// Resized crop (torchvision bilinear, align_corners=False, no antialias): output point → source point.
fn crop_inv(q: vec2f, box: vec4f) -> vec2f {
  let sy = clamp((q.y + 0.5) * (box.z / f32(u.out_h)) - 0.5, 0.0, box.z - 1.0);
  let sx = clamp((q.x + 0.5) * (box.w / f32(u.out_w)) - 0.5, 0.0, box.w - 1.0);
  return vec2f(box.y + sx, box.x + sy);
}`;

function sourceFns(ctx: StageContext, from: 'source' | 'image'): string {
  const c = ctx.source.channels;
  const u8 = from === 'source' && ctx.source.dtype === 'uint8';
  const [h, w] = from === 'source' ? ['u.in_h', 'u.in_w'] : ['u.out_h', 'u.out_w'];
  const fetch = u8 ? 'return f32((src[k >> 2u] >> ((k & 3u) * 8u)) & 255u) / 255.0;' : 'return src[k];';
  // Row starts computed once per pixel; each channel is one plane further on.
  const channels = Array.from({ length: c }, (_, ch) => {
    const off = ch === 0 ? '' : ` + ${ch}u * plane`;
    return `mix(mix(fetch(r0 + x0${off}), fetch(r0 + x1${off}), lx), mix(fetch(r1 + x0${off}), fetch(r1 + x1${off}), lx), ly)`;
  });
  return /* wgsl */ `
@group(0) @binding(2) var<storage, read> src: array<${u8 ? 'u32' : 'f32'}>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
fn fetch(k: u32) -> f32 {
  ${fetch}
}
fn bilinear(n: u32, q0: vec2f) -> vec3f {
  let limit = vec2f(f32(${w} - 1u), f32(${h} - 1u));
  let q = clamp(q0, vec2f(0.0), limit);
  let x0 = u32(floor(q.x));
  let y0 = u32(floor(q.y));
  let x1 = min(x0 + 1u, ${w} - 1u);
  let y1 = min(y0 + 1u, ${h} - 1u);
  let lx = q.x - f32(x0);
  let ly = q.y - f32(y0);
  let plane = ${h} * ${w};
  let first = ${from === 'source' ? 'n' : '(u.view * u.count + n)'} * ${c}u * plane;
  let r0 = first + y0 * ${w};
  let r1 = first + y1 * ${w};
  ${c === 3 ? `return vec3f(${channels.join(',\n    ')});` : `return vec3f(${channels[0]});`}
}`;
}

function gaussianSetup(op: Extract<AugOp, { op: 'blur' }>, at: string): string {
  return `var wk: array<f32, ${op.kernel}>;
  let fired = params[${at}] > 0.5;
  if (fired) {
    let sigma = params[${at} + 1u];
    var total = 0.0;
    for (var k = 0u; k < ${op.kernel}u; k++) {
      let x = (f32(k) - ${lit((op.kernel - 1) / 2)}) / sigma;
      wk[k] = exp(-0.5 * x * x);
      total += wk[k];
    }
    for (var k = 0u; k < ${op.kernel}u; k++) { wk[k] = wk[k] / total; }
  }`;
}

const REFLECT_WGSL = /* wgsl */ `
// torch's reflect padding (the edge pixel is not repeated), branch-free: valid for -n < i < 2n - 1.
fn reflect_index(i: i32, n: i32) -> u32 {
  let a = abs(i);
  return u32(clamp(min(a, 2 * n - 2 - a), 0, n - 1));
}`;

/** WGSL programs of one stage, with the buffers they bind after the uniform and the params. */
export function stageKernels(ctx: StageContext, stage: Stage): { label: string; code: string; bindings: ('src' | 'dst')[] }[] {
  const read = stage.read;
  const head = HEADER(ctx.workgroup) + commonFns(ctx) + (stage.pointwise.some((i) => ctx.ops[i].op === 'color_jitter') ? jitterFns(ctx) : '');
  const ch = ctx.source.channels;
  if (read.kind === 'sample') {
    const geo = geometry(ctx, read.geo, read.from === 'source');
    const sampleRead = `sample_at(n, rec, x, y)`;
    const code = `${head}${GEOMETRY_WGSL}${sourceFns(ctx, read.from)}
fn sample_at(n: u32, rec: u32, x: u32, y: u32) -> vec3f {
  var q = vec2f(f32(x), f32(y));
  var inside = true;
  ${geo}
  return select(vec3f(0.0), bilinear(n, q), inside);
}
${body(ctx, stage, sampleRead)}`;
    const names = [...(read.geo.length ? read.geo : [-1]), ...stage.pointwise].map((i) => (i < 0 ? 'resize' : ctx.ops[i].op));
    return [{ label: `augment_${names.join('_')}`, code, bindings: ['src', 'dst'] }];
  }
  if (read.kind === 'load') {
    const code = `${head}@group(0) @binding(2) var<storage, read_write> dst: array<f32>;\n${body(ctx, stage, loadExpr('dst', ch))}`;
    return [{ label: `augment_${ctx.ops[stage.pointwise[0]].op}`, code, bindings: ['dst'] }];
  }
  const op = ctx.ops[read.op] as Extract<AugOp, { op: 'blur' }>;
  const at = `rec + ${ctx.layout.offsets[ctx.view][read.op]}u`;
  const r = (op.kernel - 1) / 2;
  // One index per tap, shared by the channels.
  const tap = (buffer: string) => (ch === 3 ? `vec3f(${buffer}[j], ${buffer}[j + npx], ${buffer}[j + 2u * npx])` : `vec3f(${buffer}[j])`);
  const horizontal = `${HEADER(ctx.workgroup)}${commonFns(ctx)}${REFLECT_WGSL}
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${ctx.workgroup}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wg.x + wg.y * 65535u;
  if (n >= u.count) { return; }
  let rec = (u.view * u.count + n) * ${ctx.layout.stride}u;
  let npx = u.out_h * u.out_w;
  ${gaussianSetup(op, at)}
  if (!fired) { return; }
  var x = li % u.out_w;
  var y = li / u.out_w;
  for (var i = li; i < npx; i += ${ctx.workgroup}u) {
    var c = vec3f(0.0);
    for (var k = 0u; k < ${op.kernel}u; k++) {
      let j = image_index(n, 0u, y * u.out_w + reflect_index(i32(x) + i32(k) - ${r}, i32(u.out_w)));
      c += wk[k] * ${tap('src')};
    }
    ${storeLines(ch)}
    x += ${ctx.workgroup}u;
    while (x >= u.out_w) { x -= u.out_w; y += 1u; }
  }
}`;
  const verticalRead = `blurred(n, i, x, y, npx, fired, &wk)`;
  const vertical = `${head}${REFLECT_WGSL}
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
fn blurred(n: u32, i: u32, x: u32, y: u32, npx: u32, fired: bool, wk: ptr<function, array<f32, ${op.kernel}>>) -> vec3f {
  if (!fired) { return ${loadExpr('dst', ch)}; }
  var c = vec3f(0.0);
  for (var k = 0u; k < ${op.kernel}u; k++) {
    let j = image_index(n, 0u, reflect_index(i32(y) + i32(k) - ${r}, i32(u.out_h)) * u.out_w + x);
    c += (*wk)[k] * ${tap('src')};
  }
  return c;
}
${body(ctx, stage, verticalRead, gaussianSetup(op, at))}`;
  return [
    { label: 'augment_blur_h', code: horizontal, bindings: ['src', 'dst'] },
    { label: `augment_blur_v${stage.pointwise.length ? '_' + stage.pointwise.map((i) => ctx.ops[i].op).join('_') : ''}`, code: vertical, bindings: ['src', 'dst'] },
  ];
}
