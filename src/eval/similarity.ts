// Query × bank similarities on the device: S = Q·Bᵀ for a chunk of query rows against a chunk of
// the bank. The bank is stored feature-major (D × N), so the invocations of a workgroup read
// neighbouring vec4s of it while all of them read the same query values: on CPU rasterisers
// (lavapipe) that is one broadcast load and one contiguous load per step instead of gathers.
import { ceilDiv } from '../kernels/op.js';
import type { Runtime } from '../gpu/runtime.js';

/**
 * Each invocation keeps ROWS query rows × COLS vec4s of bank items in registers: 16 × 4 measured
 * fastest on lavapipe of the shapes tried (8×1 … 32×2), at 2–3× the speed of 4×4 dot-product tiles.
 */
const ROWS = 16;
const COLS = 4;
const WG = 64;

const each = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n  ');
const grid = (line: (r: number, c: number) => string) => each(ROWS * COLS, (x) => line(Math.floor(x / COLS), x % COLS));

const SIMILARITY = /* wgsl */ `
struct P { m: u32, n4: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> q: array<f32>;         // m × d, row-major
@group(0) @binding(2) var<storage, read> bank: array<vec4f>;    // d × n4: column j holds items 4j … 4j+3
@group(0) @binding(3) var<storage, read_write> s: array<vec4f>; // m × n4
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let rb = wid.y * ${ROWS}u;
  let jb = gid.x * ${COLS}u;
  ${each(COLS, (c) => `let j${c} = min(jb + ${c}u, p.n4 - 1u);`)}
  ${each(ROWS, (r) => `let r${r} = min(rb + ${r}u, p.m - 1u) * p.d;`)}
  ${grid((r, c) => `var a${r}_${c} = vec4f(0.0);`)}
  for (var k = 0u; k < p.d; k++) {
    ${each(COLS, (c) => `let b${c} = bank[k * p.n4 + j${c}];`)}
    ${each(ROWS, (r) => `let q${r} = vec4f(q[r${r} + k]);`)}
    ${grid((r, c) => `a${r}_${c} = fma(q${r}, b${c}, a${r}_${c});`)}
  }
  ${grid((r, c) => `if (rb + ${r}u < p.m && jb + ${c}u < p.n4) { s[(rb + ${r}u) * p.n4 + jb + ${c}u] = a${r}_${c}; }`)}
}`;

/** A bank of N items of dimension D on the device, feature-major, N padded to a multiple of 4. */
export interface Bank {
  buffer: GPUBuffer;
  /** Index of the bank's first item in the whole set, and how many it holds. */
  first: number;
  count: number;
  n4: number;
  dim: number;
}

/** Uploads rows [from, to) of a row-major N × D matrix as a feature-major bank. */
export function uploadBank(rt: Runtime, rows: Float32Array, dim: number, from: number, to: number): Bank {
  const count = to - from;
  const n4 = ceilDiv(count, 4);
  const t = new Float32Array(dim * n4 * 4);
  for (let n = 0; n < count; n++) {
    const src = (from + n) * dim;
    for (let k = 0; k < dim; k++) t[k * n4 * 4 + n] = rows[src + k];
  }
  return { buffer: rt.upload(t, 'knn bank'), first: from, count, n4, dim };
}

/**
 * Records S[m][n] = Σ_k q[m][k]·bank[n][k] for `m` query rows into `out` (row stride n4·4 floats);
 * pad columns past `bank.count` hold zeros.
 */
export async function recordSimilarity(rt: Runtime, query: GPUBuffer, m: number, bank: Bank, out: GPUBuffer): Promise<void> {
  const pipeline = await rt.pipeline(SIMILARITY, 'knn_similarity');
  rt.dispatch({
    pipeline,
    bindings: [rt.uniform([m, bank.n4, bank.dim]), query, bank.buffer, out],
    groups: [ceilDiv(bank.n4, WG * COLS), ceilDiv(m, ROWS)],
  });
}
