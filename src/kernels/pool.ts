// Pooling over NCHW images: maxpool2d (windows), global_avg_pool, global_max_pool and cat_avg_max
// (the encoder's feature pooling: [avg, max], avg first), and flatten/reshape as views.
//
// Max gradients go to the window's first maximum in row-major order, as PyTorch routes them. The
// backward kernels gather (one invocation per input element, re-finding the argmax of each window it
// lies in) instead of scattering, so they need neither atomics nor a zeroing pass.
import { FLAT_PARAMS, flatGroups, flatIndex } from './elementwise.js';
import { ceilDiv, defineOp, numel, type Attrs, type Shape, type Value } from './op.js';

const WG = 256;

/** The spec's maxpool layer's fields: the op has no defaults of its own. */
export interface MaxPoolAttrs extends Attrs {
  kernel: number;
  stride: number;
  padding: number;
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

const geometryParams = (g: PoolGeometry) => [g.N * g.C, g.H, g.W, g.OH, g.OW, g.k, g.s, g.pad];

/** Window of output (oh, ow) in plane `plane`: index of its first maximum (padding never wins). */
const ARGMAX_WGSL = /* wgsl */ `
struct Params { planes: u32, H: u32, W: u32, OH: u32, OW: u32, k: u32, s: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
fn argmax(plane: u32, oh: u32, ow: u32) -> u32 {
  var best = -3.402823e38;
  var at = 0xffffffffu;
  for (var i = 0u; i < p.k; i++) {
    let h = i32(oh * p.s + i) - i32(p.pad);
    if (h < 0 || h >= i32(p.H)) { continue; }
    for (var j = 0u; j < p.k; j++) {
      let w = i32(ow * p.s + j) - i32(p.pad);
      if (w < 0 || w >= i32(p.W)) { continue; }
      let idx = (plane * p.H + u32(h)) * p.W + u32(w);
      if (at == 0xffffffffu || x[idx] > best) { best = x[idx]; at = idx; }
    }
  }
  return at;
}`;

function referenceArgmax(x: Float64Array, g: PoolGeometry, plane: number, oh: number, ow: number): number {
  let at = -1;
  for (let i = 0; i < g.k; i++) {
    const h = oh * g.s + i - g.pad;
    if (h < 0 || h >= g.H) continue;
    for (let j = 0; j < g.k; j++) {
      const w = ow * g.s + j - g.pad;
      if (w < 0 || w >= g.W) continue;
      const idx = (plane * g.H + h) * g.W + w;
      if (at < 0 || x[idx] > x[at]) at = idx;
    }
  }
  return at;
}

defineOp<MaxPoolAttrs>({
  name: 'maxpool2d',
  shape: ([x], attrs) => {
    const g = poolGeometry(x, attrs);
    return [[g.N, g.C, g.OH, g.OW]];
  },
  reference: ([x], [sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    const y = new Float64Array(g.N * g.C * g.OH * g.OW);
    for (let plane = 0; plane < g.N * g.C; plane++)
      for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) y[(plane * g.OH + oh) * g.OW + ow] = x[referenceArgmax(x, g, plane, oh, ow)];
    return [y];
  },
  kernel: ([sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    return {
      programs: [
        {
          label: 'maxpool2d',
          code: `${ARGMAX_WGSL}
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let o = ${flatIndex(WG)};
  if (o >= p.planes * p.OH * p.OW) { return; }
  let ow = o % p.OW;
  let oh = (o / p.OW) % p.OH;
  y[o] = x[argmax(o / (p.OW * p.OH), oh, ow)];
}`,
          groups: flatGroups(g.N * g.C * g.OH * g.OW, WG),
          params: { values: geometryParams(g) },
          bindings: ['in:0', 'out:0'],
        },
      ],
    };
  },
  grad: ({ inputs: [x], grads: [g], attrs, emit }) => [g && emit('maxpool2d_backward', [x, g], attrs)[0]],
  flops: ([x], attrs) => {
    const g = poolGeometry(x, attrs);
    return g.N * g.C * g.OH * g.OW * g.k * g.k;
  },
});

/** ∂x of maxpool2d from x and ∂y: each input element collects ∂y of the windows whose argmax it is. */
defineOp<MaxPoolAttrs>({
  name: 'maxpool2d_backward',
  shape: ([x]) => [x],
  reference: ([x, gy], [sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    const dx = new Float64Array(x.length);
    for (let plane = 0; plane < g.N * g.C; plane++)
      for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) dx[referenceArgmax(x, g, plane, oh, ow)] += gy[(plane * g.OH + oh) * g.OW + ow];
    return [dx];
  },
  kernel: ([sx], attrs) => {
    const g = poolGeometry(sx, attrs);
    return {
      programs: [
        {
          label: 'maxpool2d_backward',
          code: `${ARGMAX_WGSL}
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let idx = ${flatIndex(WG)};
  if (idx >= p.planes * p.H * p.W) { return; }
  let w = i32(idx % p.W);
  let h = i32((idx / p.W) % p.H);
  let plane = idx / (p.W * p.H);
  // Windows covering (h, w): oh·s − pad ≤ h ≤ oh·s − pad + k − 1.
  let ohLo = u32(max(0, (h + i32(p.pad) - i32(p.k) + i32(p.s)) / i32(p.s)));
  let ohHi = min(i32(p.OH) - 1, (h + i32(p.pad)) / i32(p.s));
  let owLo = u32(max(0, (w + i32(p.pad) - i32(p.k) + i32(p.s)) / i32(p.s)));
  let owHi = min(i32(p.OW) - 1, (w + i32(p.pad)) / i32(p.s));
  var acc = 0.0;
  for (var oh = ohLo; i32(oh) <= ohHi; oh++) {
    for (var ow = owLo; i32(ow) <= owHi; ow++) {
      if (argmax(plane, oh, ow) == idx) { acc += gy[(plane * p.OH + oh) * p.OW + ow]; }
    }
  }
  dx[idx] = acc;
}`,
          groups: flatGroups(numel(sx), WG),
          params: { values: geometryParams(g) },
          bindings: ['in:0', 'in:1', 'out:0'],
        },
      ],
    };
  },
  flops: ([x], attrs) => {
    const g = poolGeometry(x, attrs);
    return numel(x) * Math.ceil(g.k / g.s) ** 2 * g.k * g.k;
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
