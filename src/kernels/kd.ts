// Knowledge distillation's soft term (SimCLR v2): scale·T²·mean over rows of
// CE(softmax(t/T), log_softmax(s/T)) for student logits s and teacher logits t, both [B, C].
// ∂/∂s = scale·T/B·(softmax(s/T) − softmax(t/T)); the teacher is frozen, so t gets no gradient.
// One invocation a row keeps each row's max, sums and probabilities in registers; C is a class count.
import { ceilDiv, defineOp, type Attrs, type Shape } from './op.js';

export interface KdAttrs extends Attrs {
  temperature: number;
  /** The loss row's weight α of this term (1 − α goes to the hard-label cross-entropy). */
  scale: number;
}

const WG = 64;

function dims([s, t]: Shape[], { temperature }: KdAttrs): { B: number; C: number } {
  if (s.length !== 2 || t.length !== 2 || s[0] !== t[0] || s[1] !== t[1]) throw new Error(`kd takes student and teacher logits of one shape [B, C], got [${s}] and [${t}]`);
  if (!(temperature > 0)) throw new Error(`kd temperature must be positive, got ${temperature}`);
  return { B: s[0], C: s[1] };
}

/** Row-wise softmax(x/T) in float64. */
function softmaxRows(x: Float64Array, B: number, C: number, T: number): Float64Array {
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[b * C + c] / T);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += (out[b * C + c] = Math.exp(x[b * C + c] / T - m));
    for (let c = 0; c < C; c++) out[b * C + c] /= sum;
  }
  return out;
}

export function referenceKd(s: Float64Array, t: Float64Array, B: number, C: number, { temperature: T, scale }: KdAttrs): { loss: number; grad: Float64Array } {
  const q = softmaxRows(s, B, C, T);
  const p = softmaxRows(t, B, C, T);
  let loss = 0;
  for (let i = 0; i < B * C; i++) if (p[i] > 0) loss -= p[i] * Math.log(q[i]);
  return { loss: (scale * T * T * loss) / B, grad: q.map((qi, i) => ((scale * T) / B) * (qi - p[i])) };
}

/** WGSL for one row: `m`/`sum` of s/T and t/T, leaving log-sum-exps `ls`, `lt` in scope. */
const ROW_STATS = /* wgsl */ `
  let base = row * p.C;
  var ms = -3.402823e38;
  var mt = -3.402823e38;
  for (var c = 0u; c < p.C; c++) { ms = max(ms, s[base + c] * p.invT); mt = max(mt, t[base + c] * p.invT); }
  var zs = 0.0;
  var zt = 0.0;
  for (var c = 0u; c < p.C; c++) { zs += exp(s[base + c] * p.invT - ms); zt += exp(t[base + c] * p.invT - mt); }
  let ls = ms + log(zs);
  let lt = mt + log(zt);`;

const HEAD = /* wgsl */ `
struct Params { B: u32, C: u32, invT: f32, k: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;`;

const params = (B: number, C: number, T: number, k: number) => ({ values: [B, C, 1 / T, k], types: ['u32', 'u32', 'f32', 'f32'] as ('u32' | 'f32')[] });

defineOp<KdAttrs>({
  name: 'kd',
  shape: (shapes, attrs) => (dims(shapes, attrs), [[1]]),
  reference: ([s, t], shapes, attrs) => {
    const { B, C } = dims(shapes, attrs);
    return [Float64Array.of(referenceKd(s, t, B, C, attrs).loss)];
  },
  // One workgroup: each invocation sums its rows' losses, then a tree adds the 64 partial sums.
  kernel: (shapes, attrs) => {
    const { B, C } = dims(shapes, attrs);
    const T = attrs.temperature;
    return {
      programs: [
        {
          label: 'kd',
          code: `${HEAD}
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
var<workgroup> partial: array<f32, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) lane: u32) {
  var acc = 0.0;
  for (var row = lane; row < p.B; row += ${WG}u) {${ROW_STATS}
    for (var c = 0u; c < p.C; c++) {
      let pt = exp(t[base + c] * p.invT - lt);
      acc -= pt * (s[base + c] * p.invT - ls);
    }
  }
  partial[lane] = acc;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half /= 2u) {
    if (lane < half) { partial[lane] += partial[lane + half]; }
    workgroupBarrier();
  }
  if (lane == 0u) { loss[0] = partial[0] * p.k; }
}`,
          groups: [1],
          params: params(B, C, T, (attrs.scale * T * T) / B),
          bindings: ['in:0', 'in:1', 'out:0'],
        },
      ],
    };
  },
  grad: ({ inputs: [s, t], grads: [g], attrs, emit }) => [g && emit('kd_backward', [s, t, g], attrs)[0], undefined],
  flops: ([s]) => 8 * s[0] * s[1],
});

/** ∂L/∂s from s, t and ∂L/∂loss [1]. */
defineOp<KdAttrs>({
  name: 'kd_backward',
  shape: ([s, t], attrs) => (dims([s, t], attrs), [s]),
  reference: ([s, t, g], [ss, st], attrs) => {
    const { B, C } = dims([ss, st], attrs);
    return [referenceKd(s, t, B, C, attrs).grad.map((v) => v * g[0])];
  },
  kernel: ([ss, st], attrs) => {
    const { B, C } = dims([ss, st], attrs);
    const T = attrs.temperature;
    return {
      programs: [
        {
          label: 'kd_backward',
          code: `${HEAD}
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let row = id.x;
  if (row >= p.B) { return; }${ROW_STATS}
  let k = p.k * g[0];
  for (var c = 0u; c < p.C; c++) {
    ds[base + c] = k * (exp(s[base + c] * p.invT - ls) - exp(t[base + c] * p.invT - lt));
  }
}`,
          groups: [ceilDiv(B, WG)],
          params: params(B, C, T, (attrs.scale * T) / B),
          bindings: ['in:0', 'in:1', 'in:2', 'out:0'],
        },
      ],
    };
  },
  flops: ([s]) => 8 * s[0] * s[1],
});
