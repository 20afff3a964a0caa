// The plain, unfused NT-Xent loss: a chain of simple kernels that materialises the 2N×2N similarity
// matrix. It is the reference path the fused InfoNCE kernel is measured against, and small enough
// to read: normalise, u·uᵀ, per-row log-sum-exp, mean.
//
// z = cat(view1, view2) [2N, D]; u = z/max(‖z‖, 1e-12); ℓ = u uᵀ/τ with ℓᵢᵢ = −∞; the positive of
// row i is (i + N) mod 2N; loss = mean over rows of lseᵢ − ℓᵢ,ₚ₍ᵢ₎.
// Backward: A = (P − Y)/(2Nτ), ∂L/∂u = (A + Aᵀ)u, then through the normalisation.
import { chooseVariant, matmulProgram } from './matmul.js';
import { normalizeBackwardProgram, normalizeProgram, referenceNormalize, referenceNormalizeBackward } from './l2norm.js';
import { ceilDiv, defineOp, type Attrs, type Program, type Shape, type Target } from './op.js';

export interface NtXentAttrs extends Attrs {
  temperature: number;
}

const WG = 64;

function dims(z: Shape, { temperature }: NtXentAttrs): { R: number; D: number } {
  if (z.length !== 2 || z[0] % 2 !== 0) throw new Error(`ntxent takes z[2N, D] (two views stacked), got [${z}]`);
  if (!(temperature > 0)) throw new Error(`ntxent temperature must be positive, got ${temperature}`);
  return { R: z[0], D: z[1] };
}

/** Float64 loss and ∂L/∂z of NT-Xent (∂L/∂loss = 1). */
export function referenceNtXent(z: Float64Array, R: number, D: number, t: number): { loss: number; grad: Float64Array } {
  const { u } = referenceNormalize(z, R, D);
  const logits = new Float64Array(R * R);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += u[i * D + d] * u[j * D + d];
      logits[i * R + j] = s / t;
    }
  const prob = new Float64Array(R * R);
  let loss = 0;
  for (let i = 0; i < R; i++) {
    let m = -Infinity;
    for (let j = 0; j < R; j++) if (j !== i) m = Math.max(m, logits[i * R + j]);
    let s = 0;
    for (let j = 0; j < R; j++) if (j !== i) s += Math.exp(logits[i * R + j] - m);
    const lse = m + Math.log(s);
    loss += lse - logits[i * R + ((i + R / 2) % R)];
    for (let j = 0; j < R; j++) prob[i * R + j] = j === i ? 0 : Math.exp(logits[i * R + j] - lse);
  }
  // ∂L/∂u = (A + Aᵀ)u with A = (P − Y)/(R τ).
  const gu = new Float64Array(R * D);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++) {
      const pos = j === (i + R / 2) % R ? 2 : 0;
      const a = (prob[i * R + j] + prob[j * R + i] - pos) / (R * t);
      for (let d = 0; d < D; d++) gu[i * D + d] += a * u[j * D + d];
    }
  return { loss: loss / R, grad: referenceNormalizeBackward(z, gu, R, D) };
}

const HEAD = /* wgsl */ `
struct Params { R: u32, invT: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;`;

/** lseᵢ over j ≠ i of Sᵢⱼ/τ, one invocation per row. */
function lseProgram(R: number, t: number, bindings: string[]): Program {
  return {
    label: 'ntxent_lse',
    code: `${HEAD}
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= p.R) { return; }
  var m = -3.402823e38;
  for (var j = 0u; j < p.R; j++) { if (j != i) { m = max(m, S[i * p.R + j] * p.invT); } }
  var s = 0.0;
  for (var j = 0u; j < p.R; j++) { if (j != i) { s += exp(S[i * p.R + j] * p.invT - m); } }
  lse[i] = m + log(s);
}`,
    groups: [ceilDiv(R, WG)],
    params: { values: [R, 1 / t], types: ['u32', 'f32'] },
    bindings,
  };
}

/** loss = mean of lseᵢ − Sᵢ,ₚ₍ᵢ₎/τ; a single invocation (2N is at most a few thousand). */
function meanProgram(R: number, t: number, bindings: string[]): Program {
  return {
    label: 'ntxent_mean',
    code: `${HEAD}
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@compute @workgroup_size(1) fn main() {
  var acc = 0.0;
  for (var i = 0u; i < p.R; i++) { acc += lse[i] - S[i * p.R + (i + p.R / 2u) % p.R] * p.invT; }
  loss[0] = acc / f32(p.R);
}`,
    groups: [1],
    params: { values: [R, 1 / t], types: ['u32', 'f32'] },
    bindings,
  };
}

/** A + Aᵀ scaled by ∂L/∂loss, one invocation per element; Pᵢⱼ is recomputed from S and lse. */
function symmetricProgram(R: number, t: number, bindings: string[]): Program {
  return {
    label: 'ntxent_grad_logits',
    code: `${HEAD}
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> gloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> A: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.y;
  let j = id.x;
  if (j >= p.R) { return; }
  let idx = i * p.R + j;
  var a = 0.0;
  if (i != j) {
    a = exp(S[idx] * p.invT - lse[i]) + exp(S[j * p.R + i] * p.invT - lse[j]);
    // Positives pair up both ways: j = p(i) exactly when i = p(j).
    if (j == (i + p.R / 2u) % p.R) { a -= 2.0; }
  }
  A[idx] = a * gloss[0] * p.invT / f32(p.R);
}`,
    groups: [ceilDiv(R, WG), R],
    params: { values: [R, 1 / t], types: ['u32', 'f32'] },
    bindings,
  };
}

/** S = u uᵀ from u in `from`, into `to`. */
function similarityProgram(R: number, D: number, target: Target, from: string, to: string): Program {
  const d = { M: R, K: D, N: R };
  return matmulProgram('ntxent_similarity', d, chooseVariant(d, false, true, false, target), [from, from, to]);
}

defineOp<NtXentAttrs>({
  name: 'ntxent',
  shape: ([z], attrs) => (dims(z, attrs), [[1]]),
  reference: ([z], [sz], attrs) => {
    const { R, D } = dims(sz, attrs);
    return [Float64Array.of(referenceNtXent(z, R, D, attrs.temperature).loss)];
  },
  // scratch: u [R, D], S [R, R], lse [R]
  kernel: ([sz], attrs, target) => {
    const { R, D } = dims(sz, attrs);
    const t = attrs.temperature;
    return {
      programs: [
        normalizeProgram(R, D, ['in:0', 'tmp:0']),
        similarityProgram(R, D, target, 'tmp:0', 'tmp:1'),
        lseProgram(R, t, ['tmp:1', 'tmp:2']),
        meanProgram(R, t, ['tmp:1', 'tmp:2', 'out:0']),
      ],
      scratchBytes: [4 * R * D, 4 * R * R, 4 * R],
    };
  },
  grad: ({ inputs: [z], grads: [g], attrs, emit }) => [g && emit('ntxent_backward', [z, g], attrs)[0]],
  flops: ([z]) => 2 * z[0] * z[0] * z[1] + 5 * z[0] * z[0],
});

/** ∂L/∂z from z and ∂L/∂loss [1]. */
defineOp<NtXentAttrs>({
  name: 'ntxent_backward',
  shape: ([z], attrs) => (dims(z, attrs), [z]),
  reference: ([z, g], [sz], attrs) => {
    const { R, D } = dims(sz, attrs);
    return [referenceNtXent(z, R, D, attrs.temperature).grad.map((v) => v * g[0])];
  },
  // scratch: u [R, D], S [R, R], lse [R], A + Aᵀ [R, R], ∂L/∂u [R, D]
  kernel: ([sz], attrs, target) => {
    const { R, D } = dims(sz, attrs);
    const t = attrs.temperature;
    const d = { M: R, K: R, N: D };
    return {
      programs: [
        normalizeProgram(R, D, ['in:0', 'tmp:0']),
        similarityProgram(R, D, target, 'tmp:0', 'tmp:1'),
        lseProgram(R, t, ['tmp:1', 'tmp:2']),
        symmetricProgram(R, t, ['tmp:1', 'tmp:2', 'in:1', 'tmp:3']),
        matmulProgram('ntxent_grad_u', d, chooseVariant(d, false, false, false, target), ['tmp:3', 'tmp:0', 'tmp:4']),
        normalizeBackwardProgram(R, D, ['in:0', 'tmp:4', 'out:0']),
      ],
      scratchBytes: [4 * R * D, 4 * R * R, 4 * R, 4 * R * R, 4 * R * D],
    };
  },
  flops: ([z]) => 4 * z[0] * z[0] * z[1] + 10 * z[0] * z[0],
});
