// cross_entropy: the mean softmax cross-entropy of logits [B, C] against class labels [B], and its
// backward. Labels are class ids stored as f32, not u32: that way they travel through every path an
// f32 tensor does (the executor's writes, the op tests' uploads, the float64 references) unchanged,
// and ids are exact far past any class count (2²⁴). A label outside [0, C) marks a row that does not
// count (the probe pads its last, partial batch with −1), so one compiled step serves every batch:
// the mean is over the counted rows. `scale` (default 1) weighs the loss inside a larger loss row
// (distillation's (1 − α)·CE), so the weighted term costs no extra node.
import { ceilDiv, defineOp, numel, type Attrs } from './op.js';

export interface CrossEntropyAttrs extends Attrs {
  scale?: number;
}

const weight = (attrs: CrossEntropyAttrs) => attrs.scale ?? 1;
const params = (b: number, c: number, attrs: CrossEntropyAttrs) => ({ values: [b, c, weight(attrs)], types: ['u32', 'u32', 'f32'] as ('u32' | 'f32')[] });

const WG = 256;

const counted = (label: number, classes: number) => label >= 0 && label < classes;

/** Per counted row: log Σ exp(z) − z[label] (shifted by the row's max), and the softmax when asked. */
function rows(z: Float64Array, labels: Float64Array, [b, c]: number[], each: (row: number, label: number, p: Float64Array, loss: number) => void): number {
  let n = 0;
  const p = new Float64Array(c);
  for (let i = 0; i < b; i++) {
    const label = labels[i];
    if (!counted(label, c)) continue;
    n++;
    let top = -Infinity;
    for (let j = 0; j < c; j++) top = Math.max(top, z[i * c + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += (p[j] = Math.exp(z[i * c + j] - top));
    for (let j = 0; j < c; j++) p[j] /= sum;
    each(i, label, p, top + Math.log(sum) - z[i * c + label]);
  }
  return n;
}

const HEAD = /* wgsl */ `
struct P { b: u32, c: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
fn counted(label: f32) -> bool { return label >= 0.0 && label < f32(p.c); }
fn row_max(i: u32) -> f32 {
  var top = z[i * p.c];
  for (var j = 1u; j < p.c; j++) { top = max(top, z[i * p.c + j]); }
  return top;
}
fn row_sum(i: u32, top: f32) -> f32 {
  var sum = 0.0;
  for (var j = 0u; j < p.c; j++) { sum += exp(z[i * p.c + j] - top); }
  return sum;
}`;

/** One workgroup: each invocation sums the losses of rows t, t + WG, …, then a tree adds them up. */
const FORWARD = /* wgsl */ `${HEAD}
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
var<workgroup> seen: array<f32, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) t: u32) {
  var acc = 0.0;
  var n = 0.0;
  for (var i = t; i < p.b; i += ${WG}u) {
    if (!counted(labels[i])) { continue; }
    let top = row_max(i);
    acc += top + log(row_sum(i, top)) - z[i * p.c + u32(labels[i])];
    n += 1.0;
  }
  part[t] = acc;
  seen[t] = n;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half /= 2u) {
    if (t < half) { part[t] += part[t + half]; seen[t] += seen[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { loss[0] = select(0.0, p.scale * part[0] / seen[0], seen[0] > 0.0); }
}`;

/**
 * One row per invocation: dz = g·(softmax(z) − onehot(label)) / n over counted rows, 0 elsewhere.
 * Every invocation counts the labels itself: B reads of one address across the workgroup, cheaper
 * than another dispatch.
 */
const BACKWARD = /* wgsl */ `${HEAD}
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= p.b) { return; }
  let label = labels[i];
  if (!counted(label)) {
    for (var j = 0u; j < p.c; j++) { dz[i * p.c + j] = 0.0; }
    return;
  }
  var n = 0.0;
  for (var r = 0u; r < p.b; r++) { if (counted(labels[r])) { n += 1.0; } }
  let top = row_max(i);
  let k = p.scale * g[0] / n;
  let scale = k / row_sum(i, top);
  let hit = u32(label);
  for (var j = 0u; j < p.c; j++) {
    dz[i * p.c + j] = exp(z[i * p.c + j] - top) * scale - select(0.0, k, j == hit);
  }
}`;

function logitShapes(z: number[], labels: number[]): void {
  if (z.length !== 2 || labels.length !== 1 || labels[0] !== z[0]) throw new Error(`cross_entropy takes logits [B, C] and labels [B], got [${z}] and [${labels}]`);
}

defineOp<CrossEntropyAttrs>({
  name: 'cross_entropy',
  shape: ([z, labels]) => {
    logitShapes(z, labels);
    return [[1]];
  },
  reference: ([z, labels], [shape], attrs) => {
    let total = 0;
    const n = rows(z, labels, shape, (_i, _label, _p, loss) => (total += loss));
    return [Float64Array.of(n ? (weight(attrs) * total) / n : 0)];
  },
  kernel: ([[b, c]], attrs) => ({
    programs: [{ label: 'cross_entropy', code: FORWARD, groups: [1], params: params(b, c, attrs), bindings: ['in:0', 'in:1', 'out:0'] }],
  }),
  grad: ({ inputs: [z, labels], grads: [g], attrs, emit }) => [g && emit('cross_entropy_backward', [z, labels, g], attrs)[0], undefined],
  flops: ([z]) => 4 * numel(z),
});

/** logits [B, C], labels [B], ∂L/∂loss [1] → ∂L/∂logits [B, C]. */
defineOp<CrossEntropyAttrs>({
  name: 'cross_entropy_backward',
  shape: ([z, labels]) => {
    logitShapes(z, labels);
    return [z];
  },
  reference: ([z, labels, g], [shape], attrs) => {
    const c = shape[1];
    const dz = new Float64Array(numel(shape));
    const hits: [number, number, Float64Array][] = [];
    const n = rows(z, labels, shape, (i, label, p) => hits.push([i, label, Float64Array.from(p)]));
    for (const [i, label, p] of hits) for (let j = 0; j < c; j++) dz[i * c + j] = (weight(attrs) * g[0] * (p[j] - (j === label ? 1 : 0))) / n;
    return [dz];
  },
  kernel: ([[b, c]], attrs) => ({
    programs: [
      { label: 'cross_entropy_backward', code: BACKWARD, groups: [ceilDiv(b, WG)], params: params(b, c, attrs), bindings: ['in:0', 'in:1', 'in:2', 'out:0'] },
    ],
  }),
  flops: ([z]) => 5 * numel(z),
});
