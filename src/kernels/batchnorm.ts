// Batch normalisation over the channel axis 1 of [N, C] (BatchNorm1d) or [N, C, H, W] (BatchNorm2d):
// `batchnorm` (training: batch statistics, running statistics updated in place as PyTorch does),
// `batchnorm_eval` (running statistics) and `batchnorm_backward` (∂x, ∂γ, ∂β of either).
//
// Statistics and gradient sums are one workgroup per channel. The statistics are one pass over the
// channel summing x − x₀ and (x − x₀)², x₀ the channel's first value: the variance is then
// E[(x − x₀)²] − E[x − x₀]², whose two terms are of the order of the variance itself whatever the
// mean, since x₀ is one of the values, so a large mean never cancels it away in f32 (E[x²] − E[x]²
// would), and x is read once instead of twice (mean, then Σ(x − mean)²). Sync BatchNorm keeps the
// two passes: its mean is global. Applying the normalisation is its own elementwise program, so the
// compiler can fuse it into a producer.
import { ceilDiv, defineOp, getOp, numel, type Attrs, type Shape, type Target } from './op.js';
import type { MaxPoolAttrs } from './pool.js';

/** Both come from the spec's batchnorm layer (or the projector's): the op has no defaults of its own. */
export interface BatchnormAttrs extends Attrs {
  eps: number;
  momentum: number;
  /**
   * Sync BatchNorm over this many processes, each holding its slice of the batch: the statistics
   * and the backward's sums are per-channel programs of their own (labels `batchnorm_sync_*`), and
   * between them the host all-reduces the partial sums they write (src/train/data-parallel.ts).
   * With 1 the same programs run with nothing between them.
   */
  replicas?: number;
  /**
   * A 2×2/2 max pool of the output (see canPool), in BN's apply: output 0 is the pooled output and a
   * last output its argmax, as maxpool2d's of it. Set by compiler/fuse.ts, so BN→ReLU→maxpool never
   * writes the full-size activation.
   */
  pool?: MaxPoolAttrs;
  /** With `pool`: the pool takes relu of BN's output, argmax ties and all. */
  relu?: boolean;
}

/** Whether BN's apply can pool its output: 2×2/2 windows without padding on rows of even width, a workgroup a plane. */
export function canPool(x: Shape, { kernel, stride, padding }: MaxPoolAttrs, target: Target): boolean {
  const limit = target.maxWorkgroupsPerDimension;
  return x.length === 4 && kernel === 2 && stride === 2 && padding === 0 && x[2] >= 2 && x[3] % 2 === 0 && x[0] <= limit && x[1] <= limit;
}

export interface BatchnormBackwardAttrs extends Attrs {
  eps: number;
  /** Inputs are [x, γ, running_mean, running_var, ∂y] and the statistics are constants. */
  eval?: boolean;
  /** As BatchnormAttrs.replicas: ∂β and ∂γ are all-reduced before the input gradient uses them. */
  replicas?: number;
  /**
   * ∂y (input 4) is the gradient at a relu of this layer's output: it passes only where the output
   * recomputed from x, (x − mean)·γ·invstd + β with β as input 5, is positive, the expression and
   * order of operations of the forward's apply. The backward of BN→ReLU then never reads the relu's
   * output (compiler/fuse.ts sets it).
   */
  relu?: boolean;
}

/** N, C and the pixels per (sample, channel) of an [N, C, …] tensor. */
interface Layout {
  n: number;
  c: number;
  inner: number;
}

function layout(x: Shape, what: string): Layout {
  if (x.length < 2) throw new Error(`${what} takes [N, C] or [N, C, H, W], got [${x}]`);
  return { n: x[0], c: x[1], inner: numel(x.slice(2)) };
}

function checkChannels(shapes: Shape[], c: number, what: string, names: string[]): void {
  shapes.forEach((s, i) => {
    if (s.length !== 1 || s[0] !== c) throw new Error(`${what} ${names[i]} must be [${c}], got [${s}]`);
  });
}

// ---------------------------------------------------------------------------------------------
// Float64 references

/** Index of element `i` (0 ≤ i < N·inner) of channel `c`. */
const at = ({ c: channels, inner }: Layout, c: number, i: number) => (Math.floor(i / inner) * channels + c) * inner + (i % inner);

/** Per channel: mean and biased variance. */
function referenceStats(x: Float64Array, l: Layout): { mean: Float64Array; variance: Float64Array } {
  const m = l.n * l.inner;
  const mean = new Float64Array(l.c);
  const variance = new Float64Array(l.c);
  for (let c = 0; c < l.c; c++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += x[at(l, c, i)];
    mean[c] = s / m;
    let d = 0;
    for (let i = 0; i < m; i++) d += (x[at(l, c, i)] - mean[c]) ** 2;
    variance[c] = d / m;
  }
  return { mean, variance };
}

function referenceApply(x: Float64Array, l: Layout, gamma: Float64Array, beta: Float64Array, mean: Float64Array, invstd: Float64Array): Float64Array {
  return x.map((v, i) => {
    const c = Math.floor(i / l.inner) % l.c;
    return (v - mean[c]) * invstd[c] * gamma[c] + beta[c];
  });
}

const invstdOf = (variance: Float64Array, eps: number) => variance.map((v) => 1 / Math.sqrt(v + eps));

// ---------------------------------------------------------------------------------------------
// WGSL

const WG = 256;

/** Workgroups of 256 for `count` elementwise invocations, folded into y past the per-dimension limit. */
export function elementGrid(count: number, target: Target): [number, number] {
  const groups = ceilDiv(count, WG);
  const x = Math.min(groups, target.maxWorkgroupsPerDimension);
  return [x, ceilDiv(groups, x)];
}

/**
 * How an elementwise program finds element `i` and its channel `c`. With enough pixels per channel a
 * workgroup row covers one (sample, channel) plane: `c` is then the workgroup's, with no integer
 * division (a vector division is a loop of scalar ones on a CPU) and per-channel loads shared by
 * every lane. Planes too small for that ([N, C] inputs, tiny images) take the flat index. Either
 * calls the program's `element(i, channel(c))`: per-channel coefficients, then one element.
 */
interface ElementMap {
  wgsl: string;
  /** Elements per `element` call: 4 when a plane is whole 4-vectors, which load and store as one. */
  width: 1 | 4;
  groups(l: Layout, target: Target): [number, number, number?];
}

const PLANE_WG = 64;
/** Elements per invocation in a plane: fewer, fuller workgroups (each one costs lavapipe a call). */
const PLANE_STEPS = 4;
/**
 * Planes from half a workgroup up: 7×7 idles 15 of 64 lanes but drops two divisions and the
 * per-channel coefficients per element, which on lavapipe ran BN→ReLU on 512×128×7×7 in 37 ms
 * forward and 50 ms backward against 46 and 56 ms flat.
 */
const PLANE_MIN = PLANE_WG / 2;

function elementMap(l: Layout, target: Target): ElementMap {
  const limit = target.maxWorkgroupsPerDimension;
  if (l.inner >= PLANE_MIN && l.c <= limit && l.n <= limit) {
    // Planes of whole 4-vectors (28×28, 14×14) go a vector at a time: on lavapipe BN-apply and the
    // input gradient (its ∂y still four f32 loads) run 1.4× and 1.9–2× faster than element by element.
    const width = l.inner % 4 === 0 ? 4 : 1;
    return {
      width,
      wgsl: `@compute @workgroup_size(${PLANE_WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let k = channel(wg.y);
  let base = (wg.z * p.c + wg.y) * p.inner;
  for (var q = id.x * ${width}u; q < p.inner; q += nw.x * ${PLANE_WG * width}u) { element(base + q, k); }
}`,
      groups: ({ n, c, inner }) => [ceilDiv(inner, PLANE_WG * PLANE_STEPS * width), c, n],
    };
  }
  return {
    width: 1,
    wgsl: `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = id.x + id.y * nw.x * ${WG}u;
  if (i < p.n * p.c * p.inner) { element(i, channel((i / p.inner) % p.c)); }
}`,
    groups: ({ n, c, inner }, t) => elementGrid(n * c * inner, t),
  };
}

/** One workgroup per channel (`wg.x`); `wg_sum` adds a 2-vector over the workgroup. */
const CHANNEL_REDUCE = `
var<workgroup> partial: array<vec2f, ${WG}>;
fn wg_sum(v: vec2f, t: u32) -> vec2f {
  partial[t] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32)`;

/**
 * Runs `body` with `k` the index of each element of channel `c` this invocation owns (every 256th
 * of the channel's N·inner), stepping sample and pixel without a division per element. With `width`
 * 4 (planes of whole 4-vectors) `k` is the first element of each 4-vector the invocation owns.
 */
function eachOfChannel(body: string, width: 1 | 4 = 1): string {
  return `{
    let inner = p.inner / ${width}u;
    var n = t / inner;
    var q = t % inner;
    let dn = ${WG}u / inner;
    let dq = ${WG}u % inner;
    for (var i = t; i < p.n * inner; i += ${WG}u) {
      let k = ((n * p.c + c) * inner + q) * ${width}u;
      ${body}
      q += dq;
      n += dn;
      if (q >= inner) { q -= inner; n++; }
    }
  }`;
}

/**
 * The reductions read planes of whole 4-vectors a vector at a time, as the elementwise programs do
 * (ElementMap). On lavapipe, with the one-pass statistics, the bench convnet's batchnorm ran 2–2.5×
 * faster on its 28×28 and 14×14 layers (1.2–1.3× on 7×7, whose planes take one element at a time)
 * and batchnorm_backward 1.3–1.6× faster on 14×14 (no change on 28×28): issue 16, one device.
 */
const reduceWidth = (l: Layout): 1 | 4 => (l.inner % 4 === 0 ? 4 : 1);
const f32s = (width: 1 | 4) => (width === 4 ? 'vec4f' : 'f32');
/** The sum of a loaded value's lanes, and of the lanes of a product of two. */
const lanes = (v: string, width: 1 | 4) => (width === 4 ? `dot(${v}, vec4f(1.0))` : v);
const product = (a: string, b: string, width: 1 | 4) => (width === 4 ? `dot(${a}, ${b})` : `${a} * (${b})`);
/**
 * ∂y at the `width` elements from `i`, as f32 loads: a fused relu_backward masks each of them, and a
 * gather's 4-vector form takes the place of `gy_vec4` (compiler/prologue.ts).
 */
const gyAt = (width: 1 | 4, i: string) => (width === 4 ? `gy_vec4(${i})` : `gy[${i}]`);
/** The 4-vector loader of a width-4 program: `i` is a multiple of 4. */
const GY_VEC4 = 'fn gy_vec4(i: u32) -> vec4f { return vec4f(gy[i], gy[i + 1u], gy[i + 2u], gy[i + 3u]); }';

/** The uniform of every batchnorm program. `mode` 1: the statistics are running mean and variance. */
const PARAMS = `struct Params { n: u32, c: u32, inner: u32, mode: u32, momentum: f32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
fn invstd_of(stat: f32) -> f32 { return select(stat, 1.0 / sqrt(stat + p.eps), p.mode == 1u); }`;

function params(l: Layout, mode: number, momentum: number, eps: number) {
  return { values: [l.n, l.c, l.inner, mode, momentum, eps], types: ['u32', 'u32', 'u32', 'u32', 'f32', 'f32'] as ('u32' | 'f32')[] };
}

/** Batch mean and inverse std per channel; running statistics updated in place (unbiased variance). */
const statsWgsl = (width: 1 | 4) => /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${f32s(width)}>;
@group(0) @binding(2) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> invstd: array<f32>;
${CHANNEL_REDUCE} {
  let c = wg.x;
  let m = f32(p.n * p.inner);
  let shift = x[c * p.inner / ${width}u]${width === 4 ? '.x' : ''};
  var s = vec2f(0.0);
  ${eachOfChannel(`let v = x[k / ${width}u] - shift;\n      s += vec2f(${lanes('v', width)}, ${product('v', 'v', width)});`, width)}
  let total = wg_sum(s, t) / m;
  let mu = shift + total.x;
  let variance = max(total.y - total.x * total.x, 0.0);
  if (t == 0u) {
    mean[c] = mu;
    invstd[c] = 1.0 / sqrt(variance + p.eps);
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mu;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * variance * m / (m - 1.0);
  }
}`;

/** The uniform of the sync programs: the batchnorm one and the processes the batch is split over. */
const SYNC_PARAMS = `struct Params { n: u32, c: u32, inner: u32, mode: u32, momentum: f32, eps: f32, replicas: u32 }
@group(0) @binding(0) var<uniform> p: Params;
fn invstd_of(stat: f32) -> f32 { return select(stat, 1.0 / sqrt(stat + p.eps), p.mode == 1u); }`;

function syncParams(l: Layout, mode: number, momentum: number, eps: number, replicas: number) {
  const u = params(l, mode, momentum, eps);
  return { values: [...u.values, replicas], types: [...u.types, 'u32'] as ('u32' | 'f32')[] };
}

/** Sync step 1: this process's Σx per channel, into `mean` (all-reduced by the host after it). */
const SYNC_SUM_WGSL = /* wgsl */ `${SYNC_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
${CHANNEL_REDUCE} {
  let c = wg.x;
  var s = 0.0;
  ${eachOfChannel('s += x[k];')}
  let total = wg_sum(vec2f(s, 0.0), t).x;
  if (t == 0u) { mean[c] = total; }
}`;

/** Sync step 2: from the global Σx, this process's Σ(x − mean)² per channel into `invstd` (all-reduced after it). */
const SYNC_CENTRED_WGSL = /* wgsl */ `${SYNC_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> invstd: array<f32>;
${CHANNEL_REDUCE} {
  let c = wg.x;
  let mu = mean[c] / f32(p.n * p.inner * p.replicas);
  var d = 0.0;
  ${eachOfChannel('let v = x[k] - mu;\n      d += v * v;')}
  let sq = wg_sum(vec2f(d, 0.0), t).x;
  if (t == 0u) { invstd[c] = sq; }
}`;

/** Sync step 3: the global sums become mean and invstd; the running statistics as statsWgsl. */
const SYNC_STATS_WGSL = /* wgsl */ `${SYNC_PARAMS}
@group(0) @binding(1) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> invstd: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  let c = id.x;
  if (c >= p.c) { return; }
  let m = f32(p.n * p.inner * p.replicas);
  let mu = mean[c] / m;
  let sq = invstd[c];
  mean[c] = mu;
  invstd[c] = 1.0 / sqrt(sq / m + p.eps);
  running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mu;
  running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * sq / (m - 1.0);
}`;

/** y = (x − mean)·invstd·γ + β, with batch or running statistics. */
const applyWgsl = (map: ElementMap) => /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${map.width === 4 ? 'vec4f' : 'f32'}>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> stat: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<${map.width === 4 ? 'vec4f' : 'f32'}>;
/** (mean, γ·invstd, β): y = (x − mean)·a + β keeps the centring before the scale, as in f64. */
fn channel(c: u32) -> vec3f { return vec3f(mean[c], gamma[c] * invstd_of(stat[c]), beta[c]); }
fn element(i: u32, k: vec3f) { ${map.width === 4 ? 'y[i / 4u] = (x[i / 4u] - k.x) * k.y + k.z;' : 'y[i] = (x[i] - k.x) * k.y + k.z;'} }
${map.wgsl}`;

/**
 * The apply with a 2×2/2 max pool (attr `pool`): an invocation takes the windows over one 4-vector
 * (rows of whole 4-vectors: two windows) or 2-vector (even rows: one) of two rows, loaded as such, and
 * writes their maxima and argmaxes, so the full-size output is neither written nor read back by a
 * maxpool2d. Ties go to the first in row-major order, as maxpool2d's.
 */
function applyPoolWgsl([, , h, w]: Shape, relu: boolean): string {
  const [oh, ow] = [Math.floor(h / 2), w / 2];
  const lanes = w % 4 === 0 ? 4 : 2;
  const windows = lanes / 2;
  const v = ['x', 'y', 'z', 'w'];
  const window = (k: number) =>
    [`var best${k} = r0.${v[2 * k]};`, `var at${k} = 0.0;`, ...[`r0.${v[2 * k + 1]}`, `r1.${v[2 * k]}`, `r1.${v[2 * k + 1]}`].map((e, j) => `if (${e} > best${k}) { best${k} = ${e}; at${k} = ${j + 1}.0; }`)].join('\n    ');
  const range = [...Array(windows).keys()];
  const activation = (e: string) => (relu ? `max(${e}, vec${lanes}f(0.0))` : e);
  return /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<vec${lanes}f>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> stat: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> arg: array<f32>;
fn channel(c: u32) -> vec3f { return vec3f(mean[c], gamma[c] * invstd_of(stat[c]), beta[c]); }
@compute @workgroup_size(${PLANE_WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let k = channel(wg.y);
  let plane = wg.z * p.c + wg.y;
  for (var t = id.x; t < ${(oh * ow) / windows}u; t += nw.x * ${PLANE_WG}u) {
    let row = t / ${ow / windows}u;
    let col = t % ${ow / windows}u;
    let top = (plane * ${h}u + 2u * row) * ${w / lanes}u + col;
    let r0 = ${activation('(x[top] - k.x) * k.y + k.z')};
    let r1 = ${activation(`(x[top + ${w / lanes}u] - k.x) * k.y + k.z`)};
    ${range.map(window).join('\n    ')}
    let o = (plane * ${oh}u + row) * ${ow}u + ${windows}u * col;
    ${range.map((j) => `y[o + ${j}u] = best${j};`).join('\n    ')}
    ${range.map((j) => `arg[o + ${j}u] = at${j};`).join('\n    ')}
  }
}`;
}

/** The apply program, pooling when `pool` is set: `stats` are the bindings of mean and the statistic. */
function applyProgram(xs: Shape, l: Layout, u: ReturnType<typeof params>, stats: string[], argOut: number, { pool, relu = false }: BatchnormAttrs, target: Target) {
  if (!pool) {
    const map = elementMap(l, target);
    return { label: 'batchnorm_apply', code: applyWgsl(map), groups: map.groups(l, target), params: u, bindings: ['in:0', 'in:1', 'in:2', ...stats, 'out:0'] };
  }
  if (!canPool(xs, pool, target)) throw new Error(`batchnorm cannot pool [${xs}] with ${JSON.stringify(pool)}`);
  const items = (Math.floor(xs[2] / 2) * xs[3]) / (xs[3] % 4 === 0 ? 4 : 2);
  return {
    label: 'batchnorm_apply_maxpool2d',
    code: applyPoolWgsl(xs, relu),
    groups: [ceilDiv(items, PLANE_WG * PLANE_STEPS), l.c, l.n] as [number, number, number],
    params: u,
    bindings: ['in:0', 'in:1', 'in:2', ...stats, 'out:0', `out:${argOut}`],
  };
}

/** BN's output and, with `pool`, maxpool2d's two outputs of it (or of its relu) in its place. */
function pooled(y: Float64Array, xs: Shape, { pool, relu }: BatchnormAttrs): Float64Array[] {
  return pool ? getOp('maxpool2d').reference([relu ? y.map((v) => Math.max(v, 0)) : y], [xs], pool) : [y];
}

const pooledOps = ({ pool, relu }: BatchnormAttrs) => (pool ? [...(relu ? ['relu'] : []), 'maxpool2d'] : []);

/** ∂y at `i`, masked by the recomputed relu when `relu`: `d` is x − mean there, `a` γ·invstd, `b` β. */
function maskedGy(width: 1 | 4, relu: boolean, i: string, d: string, a: string, b: string): string {
  const zero = `${f32s(width)}(0.0)`;
  return relu ? `select(${zero}, ${gyAt(width, i)}, ${d} * ${a} + ${b} > ${zero})` : gyAt(width, i);
}

/** ∂β = Σ∂y and ∂γ = Σ∂y·x̂ per channel. */
const gradSumsWgsl = (width: 1 | 4, relu = false) => /* wgsl */ `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${f32s(width)}>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> stat: array<f32>;
@group(0) @binding(4) var<storage, read> gy: array<f32>;
${width === 4 ? GY_VEC4 : ''}
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
${relu ? '@group(0) @binding(7) var<storage, read> gamma: array<f32>;\n@group(0) @binding(8) var<storage, read> beta: array<f32>;' : ''}
${CHANNEL_REDUCE} {
  let c = wg.x;
  let mu = mean[c];
  ${relu ? 'let a = gamma[c] * invstd_of(stat[c]);\n  let b = beta[c];' : ''}
  var s = vec2f(0.0);
  ${eachOfChannel(`let d = x[k / ${width}u] - mu;\n      let g = ${maskedGy(width, relu, 'k', 'd', 'a', 'b')};\n      s += vec2f(${lanes('g', width)}, ${product('g', 'd', width)});`, width)}
  let total = wg_sum(s, t);
  if (t == 0u) {
    dbeta[c] = total.x;
    dgamma[c] = total.y * invstd_of(stat[c]);
  }
}`;

/**
 * ∂x = γ·invstd·(∂y − ∂β/m − x̂·∂γ/m) in training (the batch statistics depend on x);
 * γ·invstd·∂y with running statistics.
 */
const gradInputWgsl = (map: ElementMap, sync = false, relu = false) => /* wgsl */ `${sync ? SYNC_PARAMS : PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${f32s(map.width)}>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> stat: array<f32>;
@group(0) @binding(5) var<storage, read> gy: array<f32>;
${map.width === 4 ? GY_VEC4 : ''}
@group(0) @binding(6) var<storage, read> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read> dbeta: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<${f32s(map.width)}>;
${relu ? '@group(0) @binding(9) var<storage, read> beta: array<f32>;' : ''}
/** ∂x = k.x·∂y + k.y·(x − k.w) + k.z; \`beta\` only for the relu's mask. */
struct Coef { k: vec4f, beta: f32 }
fn channel(c: u32) -> Coef {
  let inv = invstd_of(stat[c]);
  let a = gamma[c] * inv;
  let b = ${relu ? 'beta[c]' : '0.0'};
  if (p.mode == 1u) { return Coef(vec4f(a, 0.0, 0.0, mean[c]), b); }
  let m = f32(p.n * p.inner${sync ? ' * p.replicas' : ''});
  return Coef(vec4f(a, -a * inv * dgamma[c] / m, -a * dbeta[c] / m, mean[c]), b);
}
${
  // ∂y stays f32 loads: a fused relu_backward masks each of them (compiler/prologue.ts).
  map.width === 4
    ? `fn element(i: u32, e: Coef) {
  let d = x[i / 4u] - e.k.w;
  dx[i / 4u] = e.k.x * ${maskedGy(4, relu, 'i', 'd', 'e.k.x', 'e.beta')} + e.k.y * d + e.k.z;
}`
    : `fn element(i: u32, e: Coef) {
  let d = x[i] - e.k.w;
  dx[i] = e.k.x * ${maskedGy(1, relu, 'i', 'd', 'e.k.x', 'e.beta')} + e.k.y * d + e.k.z;
}`
}
${map.wgsl}`;

/** Σ over batch and pixels per channel of [N, C, …]; conv2d's bias gradient. */
export const channelSumWgsl = /* wgsl */ `struct Params { n: u32, c: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${CHANNEL_REDUCE} {
  let c = wg.x;
  var s = 0.0;
  ${eachOfChannel('s += src[k];')}
  let total = wg_sum(vec2f(s, 0.0), t).x;
  if (t == 0u) { dst[c] = total; }
}`;

// ---------------------------------------------------------------------------------------------
// The ops

function forwardShapes([x, ...rest]: Shape[], what: string): Layout {
  const l = layout(x, what);
  checkChannels(rest, l.c, what, ['gamma', 'beta', 'running_mean', 'running_var']);
  return l;
}

/**
 * Training mode. Inputs [x, γ, β, running_mean, running_var]; outputs [y, running_mean,
 * running_var, mean, invstd]: outputs 1 and 2 are written into inputs 3 and 4, outputs 3 and 4
 * are what the backward needs.
 */
defineOp<BatchnormAttrs>({
  name: 'batchnorm',
  inplace: { 1: 3, 2: 4 },
  shape(shapes, { pool }) {
    const l = forwardShapes(shapes, 'batchnorm');
    if (l.n * l.inner < 2) throw new Error(`batchnorm needs more than one value per channel in training, got [${shapes[0]}]`);
    if (!pool) return [shapes[0], [l.c], [l.c], [l.c], [l.c]];
    const y = getOp('maxpool2d').shape([shapes[0]], pool)[0];
    return [y, [l.c], [l.c], [l.c], [l.c], y];
  },
  reference([x, gamma, beta, runningMean, runningVar], [xs], attrs) {
    const { eps, momentum } = attrs;
    const l = layout(xs, 'batchnorm');
    const m = l.n * l.inner;
    const { mean, variance } = referenceStats(x, l);
    const invstd = invstdOf(variance, eps);
    const [y, arg] = pooled(referenceApply(x, l, gamma, beta, mean, invstd), xs, attrs);
    return [
      y,
      runningMean.map((r, c) => (1 - momentum) * r + momentum * mean[c]),
      runningVar.map((r, c) => (1 - momentum) * r + momentum * variance[c] * (m / (m - 1))),
      mean,
      invstd,
      ...(arg ? [arg] : []),
    ];
  },
  absorbed: pooledOps,
  kernel([xs], attrs, target) {
    const { eps, momentum, replicas } = attrs;
    const l = layout(xs, 'batchnorm');
    const u = params(l, 0, momentum, eps);
    const apply = applyProgram(xs, l, u, ['out:3', 'out:4'], 5, attrs, target);
    if (replicas !== undefined) {
      const v = syncParams(l, 0, momentum, eps, replicas);
      return {
        programs: [
          { label: 'batchnorm_sync_sum', code: SYNC_SUM_WGSL, groups: [l.c], params: v, bindings: ['in:0', 'out:3'] },
          { label: 'batchnorm_sync_centred', code: SYNC_CENTRED_WGSL, groups: [l.c], params: v, bindings: ['in:0', 'out:3', 'out:4'] },
          { label: 'batchnorm_sync_stats', code: SYNC_STATS_WGSL, groups: [ceilDiv(l.c, 64)], params: v, bindings: ['out:1', 'out:2', 'out:3', 'out:4'] },
          apply,
        ],
      };
    }
    return {
      programs: [
        { label: 'batchnorm_stats', code: statsWgsl(reduceWidth(l)), groups: [l.c], params: u, bindings: ['in:0', 'out:1', 'out:2', 'out:3', 'out:4'] },
        apply,
      ],
    };
  },
  grad({ inputs: [x, gamma], outputs: [, , , mean, invstd], grads: [gy], attrs, emit }) {
    if (!gy) return [undefined, undefined, undefined, undefined, undefined];
    const sync = attrs.replicas !== undefined ? { replicas: attrs.replicas } : {};
    const [dx, dgamma, dbeta] = emit('batchnorm_backward', [x, gamma, mean, invstd, gy], { eps: attrs.eps, ...sync });
    return [dx, dgamma, dbeta, undefined, undefined];
  },
  flops: ([x]) => 7 * numel(x),
});

/** Eval mode: inputs as batchnorm, one output y normalised with the running statistics. */
defineOp<BatchnormAttrs>({
  name: 'batchnorm_eval',
  shape(shapes, { pool }) {
    forwardShapes(shapes, 'batchnorm_eval');
    return pool ? [0, 1].map(() => getOp('maxpool2d').shape([shapes[0]], pool)[0]) : [shapes[0]];
  },
  reference([x, gamma, beta, runningMean, runningVar], [xs], attrs) {
    return pooled(referenceApply(x, layout(xs, 'batchnorm_eval'), gamma, beta, runningMean, invstdOf(runningVar, attrs.eps)), xs, attrs);
  },
  absorbed: pooledOps,
  kernel([xs], attrs, target) {
    const l = layout(xs, 'batchnorm_eval');
    return { programs: [applyProgram(xs, l, params(l, 1, 0, attrs.eps), ['in:3', 'in:4'], 1, attrs, target)] };
  },
  grad({ inputs: [x, gamma, , runningMean, runningVar], grads: [gy], attrs, emit }) {
    if (!gy) return [undefined, undefined, undefined, undefined, undefined];
    const [dx, dgamma, dbeta] = emit('batchnorm_backward', [x, gamma, runningMean, runningVar, gy], { eps: attrs.eps, eval: true });
    return [dx, dgamma, dbeta, undefined, undefined];
  },
  flops: ([x]) => 4 * numel(x),
});

/**
 * Inputs [x, γ, mean, invstd, ∂y] (training; mean and invstd as batchnorm saved them) or
 * [x, γ, running_mean, running_var, ∂y] (eval), then β with `relu`; outputs [∂x, ∂γ, ∂β].
 */
defineOp<BatchnormBackwardAttrs>({
  name: 'batchnorm_backward',
  shape([x, gamma, mean, stat, gy, beta], { eval: evalMode = false, relu = false }) {
    const l = layout(x, 'batchnorm_backward');
    checkChannels([gamma, mean, stat], l.c, 'batchnorm_backward', evalMode ? ['gamma', 'running_mean', 'running_var'] : ['gamma', 'mean', 'invstd']);
    if (relu) checkChannels([beta ?? []], l.c, 'batchnorm_backward', ['beta']);
    if (gy.join() !== x.join()) throw new Error(`batchnorm_backward gradient [${gy}] must match the input [${x}]`);
    return [x, [l.c], [l.c]];
  },
  reference([x, gamma, mean, stat, gyIn, beta], [xs], { eps, eval: evalMode = false, relu = false }) {
    const l = layout(xs, 'batchnorm_backward');
    const m = l.n * l.inner;
    const invstd = evalMode ? invstdOf(stat, eps) : stat;
    const y = relu ? referenceApply(x, l, gamma, beta, mean, invstd) : undefined;
    const gy = y ? gyIn.map((g, i) => (y[i] > 0 ? g : 0)) : gyIn;
    const dgamma = new Float64Array(l.c);
    const dbeta = new Float64Array(l.c);
    const channel = (i: number) => Math.floor(i / l.inner) % l.c;
    const xhat = x.map((v, i) => (v - mean[channel(i)]) * invstd[channel(i)]);
    gy.forEach((g, i) => {
      dbeta[channel(i)] += g;
      dgamma[channel(i)] += g * xhat[i];
    });
    const dx = gy.map((g, i) => {
      const c = channel(i);
      const scale = gamma[c] * invstd[c];
      return evalMode ? scale * g : scale * (g - dbeta[c] / m - (xhat[i] * dgamma[c]) / m);
    });
    return [dx, dgamma, dbeta];
  },
  absorbed: ({ relu }) => (relu ? ['relu_backward'] : []),
  kernel([xs], { eps, eval: evalMode = false, replicas, relu = false }, target) {
    const l = layout(xs, 'batchnorm_backward');
    const u = params(l, evalMode ? 1 : 0, 0, eps);
    const map = elementMap(l, target);
    const sync = replicas !== undefined && !evalMode;
    // The data-parallel step finds the sums ∂γ, ∂β as the grad-sums program's bindings 4 and 5.
    const sums = ['in:0', 'in:2', 'in:3', 'in:4', 'out:1', 'out:2', ...(relu ? ['in:1', 'in:5'] : [])];
    const input = ['in:0', 'in:1', 'in:2', 'in:3', 'in:4', 'out:1', 'out:2', 'out:0', ...(relu ? ['in:5'] : [])];
    const mask = relu ? '_relu' : '';
    return {
      programs: [
        { label: `${sync ? 'batchnorm_sync_grad_sums' : 'batchnorm_grad_sums'}${mask}`, code: gradSumsWgsl(reduceWidth(l), relu), groups: [l.c], params: u, bindings: sums },
        {
          label: `batchnorm_grad_input${mask}`,
          code: gradInputWgsl(map, sync, relu),
          groups: map.groups(l, target),
          params: sync ? syncParams(l, 0, 0, eps, replicas) : u,
          bindings: input,
        },
      ],
    };
  },
  flops: ([x]) => 12 * numel(x),
});
