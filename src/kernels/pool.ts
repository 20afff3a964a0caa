// Pooling over NCHW images: maxpool2d (windows), global_avg_pool, global_max_pool and cat_avg_max
// (the encoder's feature pooling: [avg, max], avg first), and flatten/reshape as views.
//
// Max gradients go to the window's first maximum in row-major order, as PyTorch routes them. The
// forward saves where each window's maximum is, so the backward never searches a window again: it
// gathers (one invocation per input element, over the ≤ ⌈k/s⌉² windows that can hold it), needing
// neither atomics nor a zeroing pass.
import { FLAT_PARAMS, flatGroups, flatIndex } from './elementwise.js';
import { ceilDiv, defineOp, numel, type Attrs, type Shape, type Value } from './op.js';

const WG = 256;

/** The spec's maxpool layer's fields: the op has no defaults of its own. */
export interface MaxPoolAttrs extends Attrs {
  kernel: number;
  stride: number;
  padding: number;
}

export interface MaxPoolBackwardAttrs extends MaxPoolAttrs {
  /** [H, W] of the forward input: strides make it ambiguous from the output's size. */
  input_size: number[];
}

interface PoolGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  k: number;
  s: number;
  pad: number;
}

function poolGeometry(x: Shape, { kernel, stride, padding }: MaxPoolAttrs): PoolGeometry {
  if (x.length !== 4) throw new Error(`maxpool2d takes NCHW input, got [${x}]`);
  if (padding * 2 > kernel) throw new Error(`maxpool2d padding ${padding} must be at most half the kernel ${kernel}`);
  const [N, C, H, W] = x;
  const OH = Math.floor((H + 2 * padding - kernel) / stride) + 1;
  const OW = Math.floor((W + 2 * padding - kernel) / stride) + 1;
  if (OH < 1 || OW < 1) throw new Error(`maxpool2d kernel ${kernel} does not fit [${x}] with padding ${padding}`);
  return { N, C, H, W, OH, OW, k: kernel, s: stride, pad: padding };
}

/** The forward's geometry from the backward's operands: [argmax, ∂y] and the input's size. */
function backwardGeometry([arg, gy]: Shape[], attrs: MaxPoolBackwardAttrs): PoolGeometry {
  const [H, W] = attrs.input_size;
  const g = poolGeometry([gy[0], gy[1], H, W], attrs);
  if ([g.N, g.C, g.OH, g.OW].join() !== gy.join() || arg.join() !== gy.join()) {
    throw new Error(`maxpool2d_backward: argmax [${arg}] and gradient [${gy}] do not match input size ${H}×${W}`);
  }
  return g;
}

const geometryParams = (g: PoolGeometry) => [g.N * g.C];

/**
 * The window's size, stride and padding are constants of the source (a layer has one of each), so
 * lavapipe unrolls the window and, without padding, drops every bounds check: the 2×2/2 forward
 * runs 2.5× faster than with the window in the uniform, its argmax output included. The plane's
 * sizes are constants too: the divisions that find an element's row and column then compile to
 * multiplies (lavapipe runs a division by a uniform lane by lane).
 */
const poolParams = ({ k, s, pad, H, W, OH, OW }: PoolGeometry) => `struct Params { planes: u32 }
@group(0) @binding(0) var<uniform> p: Params;
const K = ${k}i;
const S = ${s}i;
const PAD = ${pad}i;
const H = ${H}u;
const W = ${W}u;
const OH = ${OH}u;
const OW = ${OW}u;`;

/** Window of output (oh, ow): its first maximum in row-major order (padding never wins), as i·k + j. */
function referenceArgmax(x: Float64Array, g: PoolGeometry, plane: number, oh: number, ow: number): number {
  let at = -1;
  let local = -1;
  for (let i = 0; i < g.k; i++) {
    const h = oh * g.s + i - g.pad;
    if (h < 0 || h >= g.H) continue;
    for (let j = 0; j < g.k; j++) {
      const w = ow * g.s + j - g.pad;
      if (w < 0 || w >= g.W) continue;
      const idx = (plane * g.H + h) * g.W + w;
      if (at < 0 || x[idx] > x[at]) [at, local] = [idx, i * g.k + j];
    }
  }
  return local;
}

/** Input index of window-local position `local` of output (oh, ow). */
function windowIndex(g: PoolGeometry, plane: number, oh: number, ow: number, local: number): number {
  const h = oh * g.s + Math.floor(local / g.k) - g.pad;
  const w = ow * g.s + (local % g.k) - g.pad;
  return (plane * g.H + h) * g.W + w;
}

/**
 * Outputs [y, argmax]: argmax is the window-local position i·k + j of each maximum, as f32 (exact:
 * it is below k², where an index into x would lose bits past 2²⁴ elements). Only the backward reads it.
 */
defineOp<MaxPoolAttrs>({
  name: 'maxpool2d',
  shape: ([x], attrs) => {
    const g = poolGeometry(x, attrs);
    return [
      [g.N, g.C, g.OH, g.OW],
      [g.N, g.C, g.OH, g.OW],
    ];
  },
  reference: ([x], [sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    const y = new Float64Array(g.N * g.C * g.OH * g.OW);
    const arg = new Float64Array(y.length);
    for (let plane = 0; plane < g.N * g.C; plane++)
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const o = (plane * g.OH + oh) * g.OW + ow;
          arg[o] = referenceArgmax(x, g, plane, oh, ow);
          y[o] = x[windowIndex(g, plane, oh, ow, arg[o])];
        }
    return [y, arg];
  },
  kernel: ([sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    const check = g.pad > 0 ? 'if (h < 0 || h >= i32(H) || w < 0 || w >= i32(W)) { continue; }' : '';
    return {
      programs: [
        {
          label: 'maxpool2d',
          code: `${poolParams(g)}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let o = ${flatIndex(WG)};
  if (o >= p.planes * OH * OW) { return; }
  let ow = i32(o % OW);
  let oh = i32((o / OW) % OH);
  let base = (o / (OW * OH)) * H * W;
  var best = -3.402823e38;
  var at = -1i;
  for (var i = 0i; i < K; i++) {
    for (var j = 0i; j < K; j++) {
      let h = oh * S + i - PAD;
      let w = ow * S + j - PAD;
      ${check}
      let v = x[base + u32(h) * W + u32(w)];
      if (at < 0 || v > best) { best = v; at = i * K + j; }
    }
  }
  y[o] = best;
  arg[o] = f32(at);
}`,
          groups: flatGroups(g.N * g.C * g.OH * g.OW, WG),
          params: { values: geometryParams(g) },
          bindings: ['in:0', 'out:0', 'out:1'],
        },
      ],
    };
  },
  grad: ({ inputs: [x], outputs: [, arg], grads: [g], attrs, emit }) => [g && emit('maxpool2d_backward', [arg, g], { ...attrs, input_size: x.shape.slice(2) })[0]],
  flops: ([x], attrs) => {
    const g = poolGeometry(x, attrs);
    return g.N * g.C * g.OH * g.OW * g.k * g.k;
  },
});

/**
 * Windows that overlap (stride < kernel): one invocation per input element gathers over the windows
 * that can hold it.
 */
const BACKWARD_GATHER = /* wgsl */ `@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let idx = ${flatIndex(WG)};
  if (idx >= p.planes * H * W) { return; }
  let w = i32(idx % W) + PAD;
  let h = i32((idx / W) % H) + PAD;
  let plane = idx / (W * H);
  // Windows covering padded (h, w): oh·S ≤ h ≤ oh·S + K − 1.
  let ohLo = max(0i, (h - K + S) / S);
  let ohHi = min(i32(OH) - 1, h / S);
  let owLo = max(0i, (w - K + S) / S);
  let owHi = min(i32(OW) - 1, w / S);
  var acc = 0.0;
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      let o = (plane * OH + u32(oh)) * OW + u32(ow);
      if (i32(arg[o]) == (h - oh * S) * K + w - ow * S) { acc += gy[o]; }
    }
  }
  dx[idx] = acc;
}`;

/**
 * Windows that do not overlap (stride ≥ kernel, the encoders' 2×2/2): the S×S cells starting at
 * each window's corner tile the plane (the last row and column of cells stretch to its edge), so one
 * invocation per window writes its whole cell — ∂y at the argmax, zeros elsewhere — without a
 * conflict. Per input element that is one read of argmax and ∂y per S² elements instead of a search
 * of every covering window, and no division per element: on lavapipe a 2×2/2 backward runs about
 * 4× faster than the gather (8× the search the backward did before the forward saved its argmax).
 */
const BACKWARD_CELLS = /* wgsl */ `@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let o = ${flatIndex(WG)};
  if (o >= p.planes * OH * OW) { return; }
  let ow = i32(o % OW);
  let oh = i32((o / OW) % OH);
  let base = (o / (OW * OH)) * H * W;
  let a = i32(arg[o]);
  let g = gy[o];
  let top = oh * S - PAD;
  let left = ow * S - PAD;
  let peak = vec2i(top + a / K, left + a % K);
  let h1 = select(min(i32(H), top + S), i32(H), oh == i32(OH) - 1);
  let w1 = select(min(i32(W), left + S), i32(W), ow == i32(OW) - 1);
  for (var h = max(top, 0i); h < h1; h++) {
    for (var w = max(left, 0i); w < w1; w++) {
      dx[base + u32(h) * W + u32(w)] = select(0.0, g, all(vec2i(h, w) == peak));
    }
  }
}`;

const range = (k: number) => [...Array(k).keys()];

/**
 * maxpool2d_backward's elements i … i + 3 (i a multiple of 4) for S = K dividing 4, no padding and
 * rows of whole windows: each run of S elements from a multiple of S is one window's row, so the
 * four take 4/S argmax and ∂y loads instead of four each.
 */
function vec4Gather(g: PoolGeometry, name: string, [arg, gy]: string[]): string {
  // Run r starts r·S elements on: the next row (or plane) when it passes the row's end, found
  // without another division. a_r is the argmax's column when it lies in this row of the window;
  // otherwise the u32 subtraction wraps (or K² stands in, past the window) to no column.
  const runs = range(4 / g.s).map((r) => {
    const at =
      r === 0
        ? `var w = i % ${g.W}u;\n  var h = (i / ${g.W}u) % ${g.H}u;\n  var plane = i / ${g.H * g.W}u;`
        : `w += ${g.s}u;\n  if (w >= ${g.W}u) { w -= ${g.W}u; h++; if (h == ${g.H}u) { h = 0u; plane++; } }`;
    return `${at}
  let oh${r} = min(h / ${g.s}u, ${g.OH - 1}u);
  let dh${r} = h - oh${r} * ${g.s}u;
  let o${r} = (plane * ${g.OH}u + oh${r}) * ${g.OW}u + w / ${g.s}u;
  let a${r} = select(${g.k * g.k}u, u32(${arg}[o${r}]) - dh${r} * ${g.k}u, dh${r} < ${g.k}u);
  let g${r} = ${gy}[o${r}];`;
  });
  const element = (j: number) => `select(0.0, g${Math.floor(j / g.s)}, a${Math.floor(j / g.s)} == ${j % g.s}u)`;
  return `fn ${name}(i: u32) -> vec4f {
  ${runs.join('\n  ')}
  return vec4f(${range(4).map(element).join(', ')});
}`;
}

/** ∂x of maxpool2d from the forward's argmax and ∂y: each input element collects ∂y of the windows whose maximum it is. */
defineOp<MaxPoolBackwardAttrs>({
  name: 'maxpool2d_backward',
  shape: (shapes, attrs) => {
    const g = backwardGeometry(shapes, attrs);
    return [[g.N, g.C, g.H, g.W]];
  },
  reference: ([arg, gy], shapes, attrs) => {
    const g = backwardGeometry(shapes, attrs);
    const dx = new Float64Array(g.N * g.C * g.H * g.W);
    for (let plane = 0; plane < g.N * g.C; plane++)
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const o = (plane * g.OH + oh) * g.OW + ow;
          dx[windowIndex(g, plane, oh, ow, arg[o])] += gy[o];
        }
    return [dx];
  },
  kernel: (shapes, attrs) => {
    const g = backwardGeometry(shapes, attrs);
    const cells = g.s >= g.k;
    return {
      programs: [
        {
          label: 'maxpool2d_backward',
          code: `${poolParams(g)}
@group(0) @binding(1) var<storage, read> arg: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${cells ? BACKWARD_CELLS : BACKWARD_GATHER}`,
          groups: flatGroups(cells ? g.N * g.C * g.OH * g.OW : g.N * g.C * g.H * g.W, WG),
          params: { values: geometryParams(g) },
          bindings: ['in:0', 'in:1', 'out:0'],
        },
      ],
    };
  },
  // Without overlapping windows an element's gradient comes from the one window whose cell holds it
  // (BACKWARD_CELLS), so a reader can recompute it at each load: BN's backward then reads the pooled
  // ∂y and argmax, a quarter of the size each for 2×2/2, and the unpooled ∂y is never written. An
  // element of a stretched last cell, or past the window with a stride beyond it, is in no window.
  // On lavapipe the loads are gathers either way and the index arithmetic is what costs: folded
  // into BN's backward, 2×2/2 on 512×32×28×28 took 86 ms against 112 ms for the pool's pass and
  // BN's, but 73 against 63 ms on 512×64×14×14, whose 4-vectors span rows. So a CPU adapter folds
  // only rows of whole 4-vectors, in the 4-vector form; a GPU, bound by memory, folds every one.
  gather: (shapes, attrs, target) => {
    const g = backwardGeometry(shapes, attrs);
    const vec4 = g.s === g.k && g.pad === 0 && g.W % g.s === 0 && 4 % g.s === 0 && g.W >= 4;
    if (g.s < g.k || (target.isSoftware && !(vec4 && g.W % 4 === 0))) return undefined;
    return {
      wgsl: (name, [arg, gy]) => `fn ${name}(i: u32) -> f32 {
  let h = i32((i / ${g.W}u) % ${g.H}u) + ${g.pad}i;
  let w = i32(i % ${g.W}u) + ${g.pad}i;
  let oh = min(h / ${g.s}i, ${g.OH - 1}i);
  let ow = min(w / ${g.s}i, ${g.OW - 1}i);
  let o = ((i / ${g.H * g.W}u) * ${g.OH}u + u32(oh)) * ${g.OW}u + u32(ow);
  let dh = h - oh * ${g.s}i;
  let dw = w - ow * ${g.s}i;
  return select(0.0, ${gy}[o], dh < ${g.k}i && dw < ${g.k}i && i32(${arg}[o]) == dh * ${g.k}i + dw);
}`,
      ...(vec4 ? { vec4: (name: string, args: string[]) => vec4Gather(g, name, args) } : {}),
    };
  },
  flops: (shapes, attrs) => {
    const g = backwardGeometry(shapes, attrs);
    return g.N * g.C * g.H * g.W * Math.ceil(g.k / g.s) ** 2;
  },
});

function planes(x: Shape, op: string): { N: number; C: number; HW: number } {
  if (x.length !== 4) throw new Error(`${op} takes NCHW input, got [${x}]`);
  return { N: x[0], C: x[1], HW: x[2] * x[3] };
}

/** Float64 mean and first-argmax of every plane. */
function referencePlanes(x: Float64Array, count: number, HW: number): { avg: Float64Array; arg: Int32Array } {
  const avg = new Float64Array(count);
  const arg = new Int32Array(count);
  for (let q = 0; q < count; q++) {
    let s = 0;
    let at = q * HW;
    for (let i = q * HW; i < (q + 1) * HW; i++) {
      s += x[i];
      if (x[i] > x[at]) at = i;
    }
    avg[q] = s / HW;
    arg[q] = at;
  }
  return { avg, arg };
}

/**
 * One kernel source for the three global pools: `avg` and `max` pick which features each plane
 * writes and where (`stride` features per image, the avg block first). One invocation per plane.
 */
function globalPoolWgsl(avg: boolean, max: boolean): string {
  return /* wgsl */ `
struct Params { planes: u32, C: u32, HW: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  let q = id.x;
  if (q >= p.planes) { return; }
  let n = q / p.C;
  let c = q % p.C;
  var s = 0.0;
  var m = x[q * p.HW];
  for (var i = q * p.HW; i < (q + 1u) * p.HW; i++) { s += x[i]; m = max(m, x[i]); }
  let stride = ${avg && max ? '2u * p.C' : 'p.C'};
  ${avg ? 'y[n * stride + c] = s / f32(p.HW);' : ''}
  ${max ? `y[n * stride + ${avg ? 'p.C + ' : ''}c] = m;` : ''}
}`;
}

/** ∂x of a global pool: ∂avg / HW everywhere plus ∂max at the plane's first maximum. */
function globalPoolBackwardWgsl(avg: boolean, max: boolean): string {
  return /* wgsl */ `
struct Params { planes: u32, C: u32, HW: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
${max ? '@group(0) @binding(3) var<storage, read> x: array<f32>;' : ''}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  let q = id.x;
  if (q >= p.planes) { return; }
  let stride = ${avg && max ? '2u * p.C' : 'p.C'};
  let row = (q / p.C) * stride + q % p.C;
  let base = q * p.HW;
  var at = base;
  ${max ? 'for (var i = base; i < base + p.HW; i++) { if (x[i] > x[at]) { at = i; } }' : ''}
  let share = ${avg ? 'gy[row] / f32(p.HW)' : '0.0'};
  let peak = ${max ? `gy[row${avg ? ' + p.C' : ''}]` : '0.0'};
  for (var i = base; i < base + p.HW; i++) { dx[i] = share + select(0.0, peak, i == at); }
}`;
}

function defineGlobalPool(name: string, avg: boolean, max: boolean): void {
  const width = avg && max ? 2 : 1;
  const params = (x: Shape) => {
    const { N, C, HW } = planes(x, name);
    return { values: [N * C, C, HW] };
  };
  defineOp({
    name,
    shape: ([x]) => {
      const { N, C } = planes(x, name);
      return [[N, width * C]];
    },
    reference: ([x], [sx]) => {
      const { N, C, HW } = planes(sx, name);
      const { avg: means, arg } = referencePlanes(x, N * C, HW);
      const y = new Float64Array(N * C * width);
      for (let q = 0; q < N * C; q++) {
        const row = Math.floor(q / C) * C * width + (q % C);
        if (avg) y[row] = means[q];
        if (max) y[row + (avg ? C : 0)] = x[arg[q]];
      }
      return [y];
    },
    kernel: ([x]) => ({
      programs: [{ label: name, code: globalPoolWgsl(avg, max), groups: [ceilDiv(x[0] * x[1], 64)], params: params(x), bindings: ['in:0', 'out:0'] }],
    }),
    grad: ({ inputs: [x], grads: [g], emit }) => [g && emit(`${name}_backward`, [x, g])[0]],
    flops: ([x]) => numel(x) * width,
  });
  defineOp({
    name: `${name}_backward`,
    shape: ([x]) => [x],
    reference: ([x, gy], [sx]) => {
      const { N, C, HW } = planes(sx, name);
      const { arg } = referencePlanes(x, N * C, HW);
      const dx = new Float64Array(x.length);
      for (let q = 0; q < N * C; q++) {
        const row = Math.floor(q / C) * C * width + (q % C);
        if (avg) for (let i = q * HW; i < (q + 1) * HW; i++) dx[i] = gy[row] / HW;
        if (max) dx[arg[q]] += gy[row + (avg ? C : 0)];
      }
      return [dx];
    },
    kernel: ([x]) => ({
      programs: [
        {
          label: `${name}_backward`,
          code: globalPoolBackwardWgsl(avg, max),
          groups: [ceilDiv(x[0] * x[1], 64)],
          params: params(x),
          // The average's gradient needs only x's shape, not its values.
          bindings: max ? ['in:1', 'out:0', 'in:0'] : ['in:1', 'out:0'],
        },
      ],
    }),
    flops: ([x]) => numel(x) * width,
  });
}

defineGlobalPool('global_avg_pool', true, false);
defineGlobalPool('global_max_pool', false, true);
defineGlobalPool('cat_avg_max', true, true);

/**
 * A view: the output is the input's own buffer (declared in-place, no kernel runs), so flatten and
 * its gradient cost nothing. Row-major NCHW already is [N, C·H·W].
 */
function defineView(name: string, shape: (x: Shape, attrs: Attrs) => Shape, back: (x: Value) => Attrs): void {
  defineOp({
    name,
    shape: ([x], attrs) => {
      const to = shape(x, attrs);
      if (numel(to) !== numel(x)) throw new Error(`${name} cannot turn [${x}] into [${to}]`);
      return [to];
    },
    reference: ([x]) => [x.slice()],
    kernel: () => ({ programs: [] }),
    grad: ({ inputs: [x], grads: [g], emit }) => [g && emit('reshape', [g], back(x))[0]],
    inplace: { 0: 0 },
    flops: () => 0,
  });
}

defineView('flatten', (x) => [x[0], numel(x.slice(1))], (x) => ({ shape: x.shape }));
defineView('reshape', (_x, attrs) => attrs.shape as Shape, (x) => ({ shape: x.shape }));
