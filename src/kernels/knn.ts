// Weighted kNN as three forward-only ops: knn_similarity (queries × a feature-major bank chunk),
// knn_topk (each query's k most similar items so far, merged chunk by chunk into persistent state)
// and knn_vote (the neighbours' classes weighted by exp(sim / T)). A `window` input of four floats —
// the chunk's first bank item, its valid items, its first query row, its valid query rows — is
// written per chunk, so one compiled graph serves every chunk. Item ids and counts travel as f32:
// exact below 2²⁴, which the caller checks.
import { ceilDiv, defineOp, type Attrs } from './op.js';

/** An empty neighbour slot: a similarity below any real one and no item. */
export const EMPTY_SIM = -3.4028234663852886e38;
export const EMPTY_ITEM = -1;

/**
 * Each invocation keeps ROWS query rows × COLS vec4s of bank items in registers: 16 × 4 measured
 * fastest on lavapipe of the shapes tried (8×1 … 32×2), at 2–3× the speed of 4×4 dot-product tiles.
 */
const ROWS = 16;
const COLS = 4;
const SIM_WG = 64;

const each = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n  ');
const grid = (line: (r: number, c: number) => string) => each(ROWS * COLS, (x) => line(Math.floor(x / COLS), x % COLS));

// The bank is feature-major (D × N), so the invocations of a workgroup read neighbouring vec4s of it
// while all of them read the same query values: on CPU rasterisers (lavapipe) that is one broadcast
// load and one contiguous load per step instead of gathers.
const SIMILARITY = /* wgsl */ `
struct P { m: u32, n4: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> q: array<f32>;         // m × d, row-major
@group(0) @binding(2) var<storage, read> bank: array<vec4f>;    // d × n4: column j holds items 4j … 4j+3
@group(0) @binding(3) var<storage, read_write> s: array<vec4f>; // m × n4
@compute @workgroup_size(${SIM_WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
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

/** queries [M, D], bank [D, N] (feature-major, N a multiple of 4) → S [M, N] = queries · bank. */
defineOp({
  name: 'knn_similarity',
  shape: ([q, bank]) => {
    if (q.length !== 2 || bank.length !== 2 || q[1] !== bank[0]) throw new Error(`knn_similarity takes queries [M, D] and a bank [D, N], got [${q}] and [${bank}]`);
    if (bank[1] % 4 !== 0) throw new Error(`knn_similarity: the bank's item count ${bank[1]} must be padded to a multiple of 4`);
    return [[q[0], bank[1]]];
  },
  reference: ([q, bank], [[m, d], [, n]]) => {
    const s = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let k = 0; k < d; k++) for (let j = 0; j < n; j++) s[i * n + j] += q[i * d + k] * bank[k * n + j];
    return [s];
  },
  kernel: ([[m, d], [, n]]) => ({
    programs: [
      {
        label: 'knn_similarity',
        code: SIMILARITY,
        groups: [ceilDiv(n / 4, SIM_WG * COLS), ceilDiv(m, ROWS)],
        params: { values: [m, n / 4, d] },
        bindings: ['in:0', 'in:1', 'out:0'],
      },
    ],
  }),
  flops: ([[m, d], [, n]]) => 2 * m * d * n,
});

export interface TopkAttrs extends Attrs {
  /** The bank and the queries are the same items: a query is not its own neighbour. */
  exclude_self?: boolean;
}

const TOPK_WG = 64;

/**
 * One query row per invocation: its k best (similarity, item) pairs are loaded as a min-heap (root =
 * weakest), every valid similarity of the chunk that beats the root replaces it, and the heap goes
 * back. Only the set of a row's entries is meaningful, not their order.
 */
const topkCode = (k: number, excludeSelf: boolean) => /* wgsl */ `
struct P { n4: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> s: array<vec4f>;
@group(0) @binding(2) var<storage, read> window: array<f32>;
@group(0) @binding(3) var<storage, read_write> top_sims: array<f32>;
@group(0) @binding(4) var<storage, read_write> top_items: array<f32>;
@compute @workgroup_size(${TOPK_WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  let first = u32(window[0]);
  let count = u32(window[1]);
  let row = u32(window[2]) + r;
  if (r >= u32(window[3])) { return; }
  var hs: array<f32, ${k}>;
  var hi: array<f32, ${k}>;
  for (var i = 0u; i < ${k}u; i++) { hs[i] = top_sims[row * ${k}u + i]; hi[i] = top_items[row * ${k}u + i]; }
  for (var j4 = 0u; j4 * 4u < count; j4++) {
    let v4 = s[r * p.n4 + j4];
    for (var c = 0u; c < 4u; c++) {
      let j = j4 * 4u + c;
      let v = v4[c];
      if (j >= count || v <= hs[0]${excludeSelf ? ' || first + j == row' : ''}) { continue; }
      var at = 0u;
      loop {
        let left = 2u * at + 1u;
        if (left >= ${k}u) { break; }
        var child = left;
        if (left + 1u < ${k}u && hs[left + 1u] < hs[left]) { child = left + 1u; }
        if (hs[child] >= v) { break; }
        hs[at] = hs[child];
        hi[at] = hi[child];
        at = child;
      }
      hs[at] = v;
      hi[at] = f32(first + j);
    }
  }
  for (var i = 0u; i < ${k}u; i++) { top_sims[row * ${k}u + i] = hs[i]; top_items[row * ${k}u + i] = hi[i]; }
}`;

/**
 * sims [Q, N], window [4], top_sims [T, k], top_items [T, k] → top_sims, top_items (in place): rows
 * window[2] … of the state take the chunk's items window[0] … window[0] + window[1] − 1 into account.
 */
defineOp<TopkAttrs>({
  name: 'knn_topk',
  shape: ([s, window, sims, items]) => {
    if (s.length !== 2 || s[1] % 4 !== 0) throw new Error(`knn_topk takes similarities [Q, N] with N a multiple of 4, got [${s}]`);
    if (window.join() !== '4') throw new Error(`knn_topk: the window holds 4 numbers, got [${window}]`);
    if (sims.length !== 2 || sims.join() !== items.join()) throw new Error(`knn_topk: neighbour sims [${sims}] and items [${items}] must both be [T, k]`);
    return [sims, items];
  },
  reference: ([s, window, sims, items], [[, n], , [, k]], attrs) => {
    const [first, count, row0, rows] = window;
    const outSims = Float64Array.from(sims);
    const outItems = Float64Array.from(items);
    for (let r = 0; r < rows; r++) {
      const row = row0 + r;
      const pairs = Array.from({ length: k }, (_, i) => ({ sim: sims[row * k + i], item: items[row * k + i] }));
      for (let j = 0; j < count; j++) if (!(attrs.exclude_self && first + j === row)) pairs.push({ sim: s[r * n + j], item: first + j });
      pairs.sort((a, b) => b.sim - a.sim);
      pairs.slice(0, k).forEach((p, i) => {
        outSims[row * k + i] = p.sim;
        outItems[row * k + i] = p.item;
      });
    }
    return [outSims, outItems];
  },
  kernel: ([[q, n], , [, k]], attrs) => ({
    programs: [
      {
        label: 'knn_topk',
        code: topkCode(k, !!attrs.exclude_self),
        groups: [ceilDiv(q, TOPK_WG)],
        params: { values: [n / 4] },
        bindings: ['in:0', 'in:1', 'out:0', 'out:1'],
      },
    ],
  }),
  inplace: { 0: 2, 1: 3 },
  flops: ([[q, n]]) => q * n,
});

export interface VoteAttrs extends Attrs {
  classes: number;
  temperature: number;
  /** Query rows per chunk: the predictions' length. */
  rows: number;
}

/**
 * The weighted vote of a neighbour row: Σ exp((sim − max sim) / T) per class. The shift by the row's
 * largest similarity changes no ratio between classes but keeps exp finite at small T (at T = 0.001
 * a cosine of 0.9 alone would be e⁹⁰⁰). Empty slots do not vote; ties go to the lower class index.
 */
export function weightedVote(sims: ArrayLike<number>, classOf: (slot: number) => number, temperature: number, classes: number): number {
  let top = -Infinity;
  for (let i = 0; i < sims.length; i++) if (classOf(i) >= 0) top = Math.max(top, sims[i]);
  const scores = new Float64Array(classes);
  for (let i = 0; i < sims.length; i++) {
    const c = classOf(i);
    if (c >= 0) scores[c] += Math.exp((sims[i] - top) / temperature);
  }
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[c] > scores[best]) best = c;
  return best;
}

const VOTE_WG = 64;

const voteCode = (k: number, classes: number) => /* wgsl */ `
struct P { rows: u32, inv_t: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> top_sims: array<f32>;
@group(0) @binding(2) var<storage, read> top_items: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<f32>;
@group(0) @binding(4) var<storage, read> window: array<f32>;
@group(0) @binding(5) var<storage, read_write> prediction: array<f32>;
@compute @workgroup_size(${VOTE_WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= p.rows) { return; }
  if (r >= u32(window[3])) { prediction[r] = -1.0; return; }
  let base = (u32(window[2]) + r) * ${k}u;
  var top = -3.4e38;
  for (var i = 0u; i < ${k}u; i++) { if (top_items[base + i] >= 0.0) { top = max(top, top_sims[base + i]); } }
  var scores: array<f32, ${classes}>;
  for (var i = 0u; i < ${k}u; i++) {
    let item = top_items[base + i];
    if (item < 0.0) { continue; }
    let c = u32(labels[u32(item)]);
    scores[c] += exp((top_sims[base + i] - top) * p.inv_t);
  }
  var best = 0u;
  for (var c = 1u; c < ${classes}u; c++) { if (scores[c] > scores[best]) { best = c; } }
  prediction[r] = f32(best);
}`;

/**
 * top_sims [T, k], top_items [T, k], labels [N] (class ids as f32), window [4] → predictions [Q]:
 * the class of query rows window[2] … window[2] + window[3] − 1; rows past window[3] get −1.
 */
defineOp<VoteAttrs>({
  name: 'knn_vote',
  shape: ([sims, items, , window], attrs) => {
    if (sims.length !== 2 || sims.join() !== items.join()) throw new Error(`knn_vote: neighbour sims [${sims}] and items [${items}] must both be [T, k]`);
    if (window.join() !== '4') throw new Error(`knn_vote: the window holds 4 numbers, got [${window}]`);
    if (!Number.isInteger(attrs.rows) || attrs.rows < 1) throw new Error(`knn_vote: rows per chunk must be a positive integer, not ${attrs.rows}`);
    return [[attrs.rows]];
  },
  reference: ([sims, items, labels, window], [[, k]], attrs) => {
    const [, , row0, rows] = window;
    const out = new Float64Array(attrs.rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      const base = (row0 + r) * k;
      out[r] = weightedVote(sims.subarray(base, base + k), (i) => (items[base + i] < 0 ? -1 : labels[items[base + i]]), attrs.temperature, attrs.classes);
    }
    return [out];
  },
  kernel: ([[, k]], attrs) => ({
    programs: [
      {
        label: 'knn_vote',
        code: voteCode(k, attrs.classes),
        groups: [ceilDiv(attrs.rows, VOTE_WG)],
        params: { values: [attrs.rows, 1 / attrs.temperature], types: ['u32', 'f32'] },
        bindings: ['in:0', 'in:1', 'in:2', 'in:3', 'out:0'],
      },
    ],
  }),
  flops: ([[, k]], attrs) => 4 * k * attrs.rows,
});
