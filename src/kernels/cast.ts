// cast: f32 ↔ f16 storage at kernel boundaries, inserted by the precision pass (src/compiler/precision.ts)
// so the kernels that compute in f32 keep their bodies. Halves travel packed two to a u32 word
// (pack2x16float / unpack2x16float), so no thread writes half a word another thread also writes.
import { FLAT_PARAMS, flatGroups, flatIndex } from './elementwise.js';
import { ceilDiv, defineOp, numel, type Attrs } from './op.js';

export interface CastAttrs extends Attrs {
  to: 'f16' | 'f32';
}

const WG = 256;
const HALF_MAX = 65504;

/** x rounded to the nearest IEEE half (ties to even), overflowing to ±∞ as a GPU store does. */
export function roundHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  // Halfway between the largest half and the next power of two rounds up to ∞.
  if (a >= HALF_MAX + 16) return Math.sign(x) * Infinity;
  const quantum = 2 ** Math.max(Math.floor(Math.log2(a)) - 10, -24);
  const q = a / quantum;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 === 1) r -= 1;
  return Math.sign(x) * r * quantum;
}

// pack2x16float leaves values outside the half range indeterminate: overflow and NaN are written
// explicitly, so an overflowing activation reaches the loss as ∞ and the loss scaler sees it.
const TO_HALF = /* wgsl */ `
fn half_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7e00u; }
  if (abs(x) >= ${HALF_MAX + 16}.0) { return sign | 0x7c00u; }
  return pack2x16float(vec2f(x, 0.0)) & 0xffffu;
}`;

defineOp<CastAttrs>({
  name: 'cast',
  shape: ([x]) => [x],
  dtypes: (_shapes, attrs) => [attrs.to],
  // The float64 values an f16 tensor holds are exactly representable: widening is the identity.
  reference: ([x], _shapes, attrs) => [attrs.to === 'f16' ? x.map(roundHalf) : Float64Array.from(x)],
  kernel: ([x], attrs) => {
    const n = numel(x);
    const words = ceilDiv(n, 2);
    const body =
      attrs.to === 'f16'
        ? `${TO_HALF}
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let w = ${flatIndex(WG)};
  if (w >= p.words) { return; }
  let lo = half_bits(x[2u * w]);
  var hi = 0u;
  if (2u * w + 1u < p.n) { hi = half_bits(x[2u * w + 1u]); }
  y[w] = lo | (hi << 16u);
}`
        : `
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let w = ${flatIndex(WG)};
  if (w >= p.words) { return; }
  let v = unpack2x16float(x[w]);
  y[2u * w] = v.x;
  if (2u * w + 1u < p.n) { y[2u * w + 1u] = v.y; }
}`;
    const [from, to] = attrs.to === 'f16' ? ['f32', 'u32'] : ['u32', 'f32'];
    return {
      programs: [
        {
          label: `cast_${attrs.to}`,
          code: /* wgsl */ `
struct Params { n: u32, words: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<${from}>;
@group(0) @binding(2) var<storage, read_write> y: array<${to}>;
${body}`,
          groups: flatGroups(words, WG),
          params: { values: [n, words], types: ['u32', 'u32'] },
          bindings: ['in:0', 'out:0'],
        },
      ],
    };
  },
});
