// A counter-based generator: every random number is a hash of (seed, step, image, view, op, draw),
// so any image's parameters can be drawn alone, in any order, on the host or in a kernel, and agree.
// Only u32 multiply/xor/shift feed the integers, which every adapter computes bit-exactly.

/** Wellons' lowbias32: a bijective 32-bit mixer with low bias. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export interface DrawKey {
  seed: number;
  step: number;
  image: number;
  view: number;
}

export function randU32(key: DrawKey, op: number, draw: number): number {
  let h = mix32((key.seed ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ key.step) >>> 0);
  h = mix32((h ^ key.image) >>> 0);
  return mix32((h ^ ((key.view << 24) | (op << 16) | draw)) >>> 0);
}

/** Uniform in [0, 1) on a 2⁻²⁴ grid: exactly representable in f32, so host and kernel agree. */
export function rand01(key: DrawKey, op: number, draw: number): number {
  return (randU32(key, op, draw) >>> 8) * 2 ** -24;
}

/** Integer in [0, n) for n ≤ 65536, by integer arithmetic only. */
export function randBelow(key: DrawKey, op: number, draw: number, n: number): number {
  return ((randU32(key, op, draw) >>> 16) * n) >>> 16;
}

/**
 * The same functions in WGSL, keyed by the per-step uniform `s`: its `step` counts updates from 1,
 * the draws from 0, so a run's first step draws what step 0 always drew.
 */
export const RNG_WGSL = /* wgsl */ `
fn mix32(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}
fn rand_u32(image: u32, view: u32, op: u32, draw: u32) -> u32 {
  var h = mix32(s.seed ^ 0x9e3779b9u);
  h = mix32(h ^ (s.step - 1u));
  h = mix32(h ^ image);
  return mix32(h ^ ((view << 24u) | (op << 16u) | draw));
}
fn rand01(image: u32, view: u32, op: u32, draw: u32) -> f32 {
  return f32(rand_u32(image, view, op, draw) >> 8u) * 5.9604644775390625e-8;
}
fn rand_below(image: u32, view: u32, op: u32, draw: u32, n: u32) -> u32 {
  return ((rand_u32(image, view, op, draw) >> 16u) * n) >> 16u;
}`;
