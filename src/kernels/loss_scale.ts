// Dynamic loss scaling on the device, with PyTorch GradScaler's semantics: the loss gradient is
// seeded with the scale, each parameter gradient is divided by it and checked for inf/NaN into one
// found-inf flag, the updates skip when the flag is set, and the scale halves on such a step or
// doubles after `growth_interval` clean steps. The scale and its clean-step count are state tensors,
// so nothing is read back to decide a step and a checkpoint holds them.
import { FLAT_PARAMS, flatGroups, flatIndex } from './elementwise.js';
import { defineOp, numel, type Attrs } from './op.js';

const WG = 256;

/** WGSL: whether an f32 is inf or NaN, by its exponent bits (x != x may be folded away). */
export const NON_FINITE = 'fn non_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }';

/** scale → the loss gradient's seed, ∂(scale·L)/∂L. */
defineOp({
  name: 'loss_scale_seed',
  shape: ([scale]) => [scale],
  reference: ([scale]) => [Float64Array.from(scale)],
  kernel: () => ({
    programs: [
      {
        label: 'loss_scale_seed',
        code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> scale: array<f32>;
@group(0) @binding(1) var<storage, read_write> seed: array<f32>;
@compute @workgroup_size(1) fn main() { seed[0] = scale[0]; }`,
        groups: [1],
        bindings: ['in:0', 'out:0'],
      },
    ],
  }),
});

/** → the step's found-inf flag, cleared (a u32: 0 clean, 1 some gradient was inf or NaN). */
defineOp({
  name: 'found_inf_clear',
  shape: () => [[1]],
  dtypes: () => ['u32'],
  reference: () => [Float64Array.of(0)],
  kernel: () => ({
    programs: [
      {
        label: 'found_inf_clear',
        code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> found: array<u32>;
@compute @workgroup_size(1) fn main() { found[0] = 0u; }`,
        groups: [1],
        bindings: ['out:0'],
      },
    ],
  }),
});

/** g, scale, found → g / scale, found | (some element non-finite). */
defineOp({
  name: 'unscale_grad',
  shape: ([g, _scale, found]) => [g, found],
  dtypes: () => [undefined, 'u32'],
  reference: ([g, [scale], [found]]) => {
    const out = g.map((x) => x / scale);
    return [out, Float64Array.of(found || out.some((x) => !Number.isFinite(x)) ? 1 : 0)];
  },
  kernel: ([g]) => {
    const n = numel(g);
    return {
      programs: [
        {
          label: 'unscale_grad',
          code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> found: array<u32>;
${NON_FINITE}
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let v = g[i] / scale[0];
  out[i] = v;
  // Every writer stores the same 1: the race has one outcome.
  if (non_finite(v)) { found[0] = 1u; }
}`,
          groups: flatGroups(n, WG),
          params: { values: [n], types: ['u32'] },
          bindings: ['in:0', 'in:1', 'out:0', 'out:1'],
        },
      ],
    };
  },
  inplace: { 1: 2 },
  flops: ([g]) => numel(g),
});

export interface LossScaleAttrs extends Attrs {
  growth_interval: number;
  growth_factor: number;
  backoff_factor: number;
}

/** scale, clean, found → GradScaler.update: back off on a non-finite step, grow after growth_interval clean ones. */
defineOp<LossScaleAttrs>({
  name: 'loss_scale_update',
  shape: ([scale, clean]) => [scale, clean],
  reference: ([[scale], [clean], [found]], _shapes, a) => {
    if (found) return [Float64Array.of(scale * a.backoff_factor), Float64Array.of(0)];
    const grown = clean + 1 >= a.growth_interval;
    return [Float64Array.of(grown ? scale * a.growth_factor : scale), Float64Array.of(grown ? 0 : clean + 1)];
  },
  kernel: (_shapes, a) => ({
    programs: [
      {
        label: 'loss_scale_update',
        code: /* wgsl */ `
struct Params { interval: f32, growth: f32, backoff: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> clean: array<f32>;
@group(0) @binding(3) var<storage, read> found: array<u32>;
@compute @workgroup_size(1) fn main() {
  if (found[0] != 0u) {
    scale[0] = scale[0] * p.backoff;
    clean[0] = 0.0;
    return;
  }
  let next = clean[0] + 1.0;
  if (next >= p.interval) {
    scale[0] = scale[0] * p.growth;
    clean[0] = 0.0;
  } else {
    clean[0] = next;
  }
}`,
        groups: [1],
        params: { values: [a.growth_interval, a.growth_factor, a.backoff_factor], types: ['f32', 'f32', 'f32'] },
        bindings: ['out:0', 'out:1', 'in:2'],
      },
    ],
  }),
  inplace: { 0: 0, 1: 1 },
});

/**
 * x → a copy of x: BatchNorm's running statistics as they were before a step's forward pass
 * updated them in place, so a skipped step can put them back (`restore_if_found`).
 */
defineOp({
  name: 'keep_copy',
  shape: ([x]) => [x],
  reference: ([x]) => [Float64Array.from(x)],
  kernel: ([x]) => {
    const n = numel(x);
    return {
      programs: [
        {
          label: 'keep_copy',
          code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let i = ${flatIndex(WG)};
  if (i < p.n) { out[i] = x[i]; }
}`,
          groups: flatGroups(n, WG),
          params: { values: [n], types: ['u32'] },
          bindings: ['in:0', 'out:0'],
        },
      ],
    };
  },
});

/**
 * current, saved, found → saved where the step overflowed, else current, in place: a skipped f16
 * step leaves BatchNorm's running statistics as it leaves the weights (a forward overflow would
 * otherwise write inf or NaN into them for good).
 */
defineOp({
  name: 'restore_if_found',
  shape: ([current]) => [current],
  reference: ([current, saved, [found]]) => [Float64Array.from(found ? saved : current)],
  kernel: ([current]) => {
    const n = numel(current);
    return {
      programs: [
        {
          label: 'restore_if_found',
          code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read> found: array<u32>;
@group(0) @binding(3) var<storage, read_write> current: array<f32>;
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let i = ${flatIndex(WG)};
  if (i < p.n && found[0] != 0u) { current[i] = saved[i]; }
}`,
          groups: flatGroups(n, WG),
          params: { values: [n], types: ['u32'] },
          bindings: ['in:1', 'in:2', 'out:0'],
        },
      ],
    };
  },
  inplace: { 0: 0 },
});
