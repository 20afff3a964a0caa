// l2_normalize: every row of z[R, D] divided by max(‖row‖, 1e-12), as F.normalize; and its backward
// ∂z = (g − (u·g)u)/‖z‖ (below the clamp the norm is a constant and ∂z = g/1e-12).
import { ceilDiv, defineOp, type Program, type Shape } from './op.js';

export const L2_EPS = 1e-12;
const WG = 64;

function rows(z: Shape): [number, number] {
  if (z.length !== 2) throw new Error(`l2_normalize takes rows z[R, D], got [${z}]`);
  return [z[0], z[1]];
}

export function referenceNormalize(z: Float64Array, R: number, D: number): { u: Float64Array; norm: Float64Array } {
  const u = new Float64Array(R * D);
  const norm = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += z[r * D + d] ** 2;
    norm[r] = Math.max(Math.sqrt(s), L2_EPS);
    for (let d = 0; d < D; d++) u[r * D + d] = z[r * D + d] / norm[r];
  }
  return { u, norm };
}

export function referenceNormalizeBackward(z: Float64Array, g: Float64Array, R: number, D: number): Float64Array {
  const { u, norm } = referenceNormalize(z, R, D);
  const dz = new Float64Array(R * D);
  for (let r = 0; r < R; r++) {
    const clamped = norm[r] === L2_EPS;
    let ug = 0;
    for (let d = 0; d < D; d++) ug += u[r * D + d] * g[r * D + d];
    for (let d = 0; d < D; d++) dz[r * D + d] = (g[r * D + d] - (clamped ? 0 : ug * u[r * D + d])) / norm[r];
  }
  return dz;
}

const HEAD = /* wgsl */ `
struct Params { R: u32, D: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
fn rowNorm(base: u32) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { s += z[base + d] * z[base + d]; }
  return sqrt(s);
}`;

/** u = z / max(‖z‖, eps), one invocation per row; bindings z then u. */
export function normalizeProgram(R: number, D: number, bindings: string[]): Program {
  return {
    label: 'l2_normalize',
    code: `${HEAD}
@group(0) @binding(2) var<storage, read_write> u: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= p.R) { return; }
  let base = r * p.D;
  let inv = 1.0 / max(rowNorm(base), ${L2_EPS});
  for (var d = 0u; d < p.D; d++) { u[base + d] = z[base + d] * inv; }
}`,
    groups: [ceilDiv(R, WG)],
    params: { values: [R, D] },
    bindings,
  };
}

/** ∂z from z and ∂u, one invocation per row; bindings z, ∂u, then ∂z. */
export function normalizeBackwardProgram(R: number, D: number, bindings: string[]): Program {
  return {
    label: 'l2_normalize_backward',
    code: `${HEAD}
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= p.R) { return; }
  let base = r * p.D;
  let raw = rowNorm(base);
  let norm = max(raw, ${L2_EPS});
  var zg = 0.0;
  for (var d = 0u; d < p.D; d++) { zg += z[base + d] * g[base + d]; }
  // u·g / ‖z‖ = z·g / ‖z‖², and nothing when the clamp holds the norm constant.
  let k = select(0.0, zg / (norm * norm), raw > ${L2_EPS});
  for (var d = 0u; d < p.D; d++) { dz[base + d] = (g[base + d] - k * z[base + d]) / norm; }
}`,
    groups: [ceilDiv(R, WG)],
    params: { values: [R, D] },
    bindings,
  };
}

defineOp({
  name: 'l2_normalize',
  shape: ([z]) => (rows(z), [z]),
  reference: ([z], [sz]) => [referenceNormalize(z, ...rows(sz)).u],
  kernel: ([sz]) => ({ programs: [normalizeProgram(...rows(sz), ['in:0', 'out:0'])] }),
  grad: ({ inputs: [z], grads: [g], emit }) => [g && emit('l2_normalize_backward', [z, g])[0]],
  flops: ([z]) => 3 * z[0] * z[1],
});

defineOp({
  name: 'l2_normalize_backward',
  shape: ([z]) => [z],
  reference: ([z, g], [sz]) => [referenceNormalizeBackward(z, g, ...rows(sz))],
  kernel: ([sz]) => ({ programs: [normalizeBackwardProgram(...rows(sz), ['in:0', 'in:1', 'out:0'])] }),
  flops: ([z]) => 6 * z[0] * z[1],
});
