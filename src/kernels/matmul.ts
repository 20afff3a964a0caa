// matmul (C = op(A)·op(B), op = optional transpose), linear (x·Wᵀ + b, W in PyTorch's [out, in]
// layout) and sum_rows (the bias gradient). Transposes are attributes of the kernel, never copies in
// memory, so every gradient is again one matmul.
//
// Two kernels, picked per adapter. On a CPU rasteriser (lavapipe) the direct kernel: each invocation
// owns a TM×4 block of C and walks K four at a time, loading 4-vectors straight from storage (no
// workgroup memory: on lavapipe that only adds barriers). A workgroup is one row band of TM rows
// (its id alone picks the rows) and its invocations run along N, so A's loads are the same address
// in every lane, which lavapipe turns into one scalar load and a broadcast; only B's are gathers.
// On a discrete GPU the classic tiling through workgroup memory (tiledWgsl).
import { ceilDiv, defineOp, type Attrs, type Program, type Shape, type Target } from './op.js';

export interface MatmulAttrs extends Attrs {
  transA?: boolean;
  transB?: boolean;
}

export interface Dims {
  M: number;
  K: number;
  N: number;
}

/** M, K, N of op(A)[M,K]·op(B)[K,N]; throws on mismatched inner sizes. */
export function matmulDims(a: Shape, b: Shape, { transA = false, transB = false }: MatmulAttrs): Dims {
  if (a.length !== 2 || b.length !== 2) throw new Error(`matmul takes 2-D operands, got [${a}] and [${b}]`);
  const [M, K] = transA ? [a[1], a[0]] : [a[0], a[1]];
  const [K2, N] = transB ? [b[1], b[0]] : [b[0], b[1]];
  if (K !== K2) throw new Error(`matmul inner sizes differ: [${a}]${transA ? 'ᵀ' : ''} · [${b}]${transB ? 'ᵀ' : ''}`);
  return { M, K, N };
}

/** Float64 C[M,N] = op(A)·op(B) (+ bias per column). */
function referenceMatmul(a: Float64Array, b: Float64Array, { M, K, N }: Dims, transA: boolean, transB: boolean, bias?: Float64Array): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < K; k++) s += a[transA ? k * M + i : i * K + k] * b[transB ? j * K + k : k * N + j];
      c[i * N + j] = s;
    }
  }
  return c;
}

/** The lavapipe-fast kernel: 4-vectors straight from storage, no workgroup memory. */
export interface DirectVariant {
  kind: 'direct';
  transA: boolean;
  transB: boolean;
  bias: boolean;
  /** Every contiguous run is a whole number of 4-vectors: K, N and (A transposed) M divisible by 4. */
  vec4: boolean;
  /** Rows of C per invocation (a multiple of 4). */
  tm: number;
  wgx: number;
}

/** The discrete-GPU kernel: 64×64 tiles of C staged through workgroup memory, 4×4 per invocation. */
export interface TiledVariant {
  kind: 'tiled';
  transA: boolean;
  transB: boolean;
  bias: boolean;
}

export type Variant = DirectVariant | TiledVariant;

export function chooseVariant(d: Dims, transA: boolean, transB: boolean, bias: boolean, target: Target): Variant {
  if (!target.isSoftware) return { kind: 'tiled', transA, transB, bias };
  const vec4 = d.K % 4 === 0 && d.N % 4 === 0 && (!transA || d.M % 4 === 0);
  // The scalar variant (sizes not divisible by 4) has masked loads: 4 rows keep its code, and
  // lavapipe's compile time, at half of the 8-row block's.
  return { kind: 'direct', transA, transB, bias, vec4, tm: vec4 ? 8 : 4, wgx: 8 };
}

const XYZW = ['x', 'y', 'z', 'w'];

/**
 * WGSL for one variant. Shapes arrive in the uniform (M, K, N), so one pipeline serves every size
 * of its variant. Out-of-range rows of A are clamped (their results are never stored); in the
 * scalar variant every load outside the matrix reads 0, which also pads K to a multiple of 4.
 */
export function matmulWgsl(v: Variant): string {
  return v.kind === 'direct' ? directWgsl(v) : tiledWgsl(v);
}

function directWgsl(v: DirectVariant): string {
  const { transA, transB, bias, vec4, tm, wgx } = v;
  const elem = vec4 ? 'vec4<f32>' : 'f32';
  const lines: string[] = [];
  // A block: a(i, kk) is op(A)[row0 + i, k + kk].
  const aLoads: string[] = [];
  const a = (i: number, kk: number) => (transA ? `a${kk}_${i >> 2}.${XYZW[i & 3]}` : `a${i}.${XYZW[kk]}`);
  if (transA) {
    for (let kk = 0; kk < 4; kk++) for (let ib = 0; ib < tm / 4; ib++) aLoads.push(`let a${kk}_${ib} = ldA(k + ${kk}u, row0 + ${ib * 4}u);`);
  } else {
    for (let i = 0; i < tm; i++) aLoads.push(`let a${i} = ldA(row0 + ${i}u, k);`);
  }
  // B block: b(kk) is op(B)[k + kk, col0 .. col0 + 3] as a 4-vector.
  const bLoads: string[] = [];
  let b: (kk: number) => string;
  if (transB) {
    for (let j = 0; j < 4; j++) bLoads.push(`let b${j} = ldB(col0 + ${j}u, k);`);
    b = (kk) => `vec4<f32>(b0.${XYZW[kk]}, b1.${XYZW[kk]}, b2.${XYZW[kk]}, b3.${XYZW[kk]})`;
  } else {
    for (let kk = 0; kk < 4; kk++) bLoads.push(`let b${kk} = ldB(k + ${kk}u, col0);`);
    b = (kk) => `b${kk}`;
  }
  const fmas: string[] = [];
  for (let kk = 0; kk < 4; kk++) for (let i = 0; i < tm; i++) fmas.push(`acc${i} = fma(vec4<f32>(${a(i, kk)}), ${b(kk)}, acc${i});`);

  // A stored [rowsA, colsA] with colsA contiguous: op(A) rows are M unless transposed.
  const [rowsA, colsA] = transA ? ['p.K', 'p.M'] : ['p.M', 'p.K'];
  const [rowsB, colsB] = transB ? ['p.N', 'p.K'] : ['p.K', 'p.N'];
  const loader = (name: string, rows: string, cols: string) =>
    vec4
      ? `fn ld${name}(r: u32, c: u32) -> vec4<f32> { return ${name}[min(r, ${rows} - 1u) * (${cols} / 4u) + c / 4u]; }`
      : `fn ld${name}(r: u32, c: u32) -> vec4<f32> {
  let base = min(r, ${rows} - 1u) * ${cols};
  let last = ${cols} - 1u;
  let v = vec4<f32>(${name}[base + min(c, last)], ${name}[base + min(c + 1u, last)], ${name}[base + min(c + 2u, last)], ${name}[base + min(c + 3u, last)]);
  return select(vec4<f32>(0.0), v, (vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(${cols})) & vec4<bool>(r < ${rows}));
}`;
  lines.push(
    'struct Params { M: u32, K: u32, N: u32 }',
    '@group(0) @binding(0) var<uniform> p: Params;',
    `@group(0) @binding(1) var<storage, read> A: array<${elem}>;`,
    `@group(0) @binding(2) var<storage, read> B: array<${elem}>;`,
  );
  let binding = 3;
  if (bias) lines.push(`@group(0) @binding(${binding++}) var<storage, read> bias: array<${elem}>;`);
  lines.push(`@group(0) @binding(${binding}) var<storage, read_write> C: array<${elem}>;`);
  lines.push(loader('A', rowsA, colsA), loader('B', rowsB, colsB));
  const biasInit = bias ? (vec4 ? 'bias[col0 / 4u]' : 'ldBias(col0)') : 'vec4<f32>(0.0)';
  if (bias && !vec4) {
    lines.push(`fn ldBias(c: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var t = 0u; t < 4u; t++) { if (c + t < p.N) { v[t] = bias[c + t]; } }
  return v;
}`);
  }
  const store = vec4
    ? (i: number) => `if (row0 + ${i}u < p.M) { C[(row0 + ${i}u) * (p.N / 4u) + col0 / 4u] = acc${i}; }`
    : (i: number) => `if (row0 + ${i}u < p.M) { for (var t = 0u; t < 4u; t++) { if (col0 + t < p.N) { C[(row0 + ${i}u) * p.N + col0 + t] = acc${i}[t]; } } }`;
  // A row band fixed per workgroup is what lets lavapipe see A's addresses as uniform.
  lines.push(`@compute @workgroup_size(${wgx})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let col0 = gid.x * 4u;
  let row0 = wid.y * ${tm}u;
  if (col0 >= p.N || row0 >= p.M) { return; }
${Array.from({ length: tm }, (_, i) => `  var acc${i} = ${biasInit};`).join('\n')}
  for (var k = 0u; k < p.K; k += 4u) {
${[...aLoads, ...bLoads, ...fmas].map((l) => `    ${l}`).join('\n')}
  }
${Array.from({ length: tm }, (_, i) => `  ${store(i)}`).join('\n')}
}`);
  return lines.join('\n');
}

const TILE = 64;
const TILE_K = 16;

/**
 * Each of the 16×16 invocations stages one 4-vector of A's and one of B's 64×16 slab in workgroup
 * memory per step of 16 along K, then accumulates its 4×4 block from there. Loads go through
 * opA/opB (transpose and bounds in one place, zeros outside), so every size works.
 */
function tiledWgsl({ transA, transB, bias }: TiledVariant): string {
  return /* wgsl */ `
struct Params { M: u32, K: u32, N: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<vec4<f32>, ${TILE_K * 16}>;
var<workgroup> Bs: array<vec4<f32>, ${TILE_K * 16}>;
fn opA(m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return A[${transA ? 'k * p.M + m' : 'm * p.K + k'}];
}
fn opB(k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  return B[${transB ? 'n * p.K + k' : 'k * p.N + n'}];
}
@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let m0 = wid.y * ${TILE}u;
  let n0 = wid.x * ${TILE}u;
  let t = lid.y * 16u + lid.x;
  let lk = t / 16u;
  let l4 = (t % 16u) * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += ${TILE_K}u) {
    As[t] = vec4<f32>(opA(m0 + l4, k0 + lk), opA(m0 + l4 + 1u, k0 + lk), opA(m0 + l4 + 2u, k0 + lk), opA(m0 + l4 + 3u, k0 + lk));
    Bs[t] = vec4<f32>(opB(k0 + lk, n0 + l4), opB(k0 + lk, n0 + l4 + 1u), opB(k0 + lk, n0 + l4 + 2u), opB(k0 + lk, n0 + l4 + 3u));
    workgroupBarrier();
    for (var k = 0u; k < ${TILE_K}u; k++) {
      let a = As[k * 16u + lid.y];
      let b = Bs[k * 16u + lid.x];
      acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (m < p.M && n < p.N) { C[m * p.N + n] = acc[i][j]${bias ? ' + bias[n]' : ''}; }
    }
  }
}`;
}

export function matmulProgram(label: string, d: Dims, v: Variant, bindings: string[]): Program {
  const groups: [number, number] =
    v.kind === 'direct' ? [ceilDiv(ceilDiv(d.N, 4), v.wgx), ceilDiv(d.M, v.tm)] : [ceilDiv(d.N, TILE), ceilDiv(d.M, TILE)];
  return { label, code: matmulWgsl(v), groups, params: { values: [d.M, d.K, d.N] }, bindings };
}

defineOp<MatmulAttrs>({
  name: 'matmul',
  shape: ([a, b], attrs) => {
    const { M, N } = matmulDims(a, b, attrs);
    return [[M, N]];
  },
  reference: ([a, b], [sa, sb], attrs) => [referenceMatmul(a, b, matmulDims(sa, sb, attrs), !!attrs.transA, !!attrs.transB)],
  kernel: ([sa, sb], attrs, target) => {
    const d = matmulDims(sa, sb, attrs);
    const v = chooseVariant(d, !!attrs.transA, !!attrs.transB, false, target);
    return { programs: [matmulProgram('matmul', d, v, ['in:0', 'in:1', 'out:0'])] };
  },
  // With Â = op(A), B̂ = op(B): ∂Â = G·B̂ᵀ and ∂B̂ = Âᵀ·G, each written as one matmul whose
  // transposes land ∂A and ∂B directly in A's and B's own layouts.
  grad: ({ inputs: [a, b], grads: [g], attrs, emit }) => {
    if (!g) return [undefined, undefined];
    const transA = !!attrs.transA;
    const transB = !!attrs.transB;
    const da = transA ? emit('matmul', [b, g], { transA: transB, transB: true })[0] : emit('matmul', [g, b], { transB: !transB })[0];
    const db = transB ? emit('matmul', [g, a], { transA: true, transB: transA })[0] : emit('matmul', [a, g], { transA: !transA })[0];
    return [da, db];
  },
  flops: ([a, b], attrs) => {
    const { M, K, N } = matmulDims(a, b, attrs);
    return 2 * M * K * N;
  },
});

function linearDims(x: Shape, w: Shape, bias?: Shape): Dims {
  if (x.length !== 2 || w.length !== 2) throw new Error(`linear takes x[N,in] and W[out,in], got [${x}] and [${w}]`);
  if (x[1] !== w[1]) throw new Error(`linear: x has ${x[1]} features but W [${w}] expects ${w[1]}`);
  if (bias && (bias.length !== 1 || bias[0] !== w[0])) throw new Error(`linear: bias [${bias}] must be [${w[0]}]`);
  return { M: x[0], K: x[1], N: w[0] };
}

/** y[N,out] = x[N,in]·Wᵀ (+ b); the bias is the optional third input. */
defineOp({
  name: 'linear',
  shape: ([x, w, b]) => {
    const { M, N } = linearDims(x, w, b);
    return [[M, N]];
  },
  reference: ([x, w, b], [sx, sw, sb]) => [referenceMatmul(x, w, linearDims(sx, sw, sb), false, true, b)],
  kernel: ([sx, sw, sb], _attrs, target) => {
    const d = linearDims(sx, sw, sb);
    const v = chooseVariant(d, false, true, !!sb, target);
    return { programs: [matmulProgram('linear', d, v, sb ? ['in:0', 'in:1', 'in:2', 'out:0'] : ['in:0', 'in:1', 'out:0'])] };
  },
  // ∂x = G·W, ∂W = Gᵀ·x, ∂b = Σ_rows G.
  grad: ({ inputs: [x, w, b], grads: [g], emit }) => {
    if (!g) return [undefined, undefined, undefined];
    const dx = emit('matmul', [g, w])[0];
    const dw = emit('matmul', [g, x], { transA: true })[0];
    return b ? [dx, dw, emit('sum_rows', [g])[0]] : [dx, dw];
  },
  flops: ([x, w, b]) => 2 * x[0] * x[1] * w[0] + (b ? x[0] * w[0] : 0),
});

const SUM_WG = 64;

/** s[C] = Σ_r x[r, c]: one invocation per column, rows summed in order. */
defineOp({
  name: 'sum_rows',
  shape: ([x]) => {
    if (x.length !== 2) throw new Error(`sum_rows takes a 2-D input, got [${x}]`);
    return [[x[1]]];
  },
  reference: ([x], [[R, C]]) => {
    const s = new Float64Array(C);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) s[c] += x[r * C + c];
    return [s];
  },
  kernel: ([[R, C]]) => ({
    programs: [
      {
        label: 'sum_rows',
        code: /* wgsl */ `
struct Params { R: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> s: array<f32>;
@compute @workgroup_size(${SUM_WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let c = id.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var r = 0u; r < p.R; r++) { acc += x[r * p.C + c]; }
  s[c] = acc;
}`,
        groups: [ceilDiv(C, SUM_WG)],
        params: { values: [R, C] },
        bindings: ['in:0', 'out:0'],
      },
    ],
  }),
  flops: ([[R, C]]) => R * C,
});
