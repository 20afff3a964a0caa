// Roof probes for `profile`: how fast this adapter can multiply-add and move memory at best, so each
// kernel's GFLOP/s and GB/s can be held against what the device offers. fma_probe runs a long chain
// of vec4 fused multiply-adds per invocation (no memory traffic but one store); copy_probe streams a
// buffer into another with vec4 loads and stores.
import { ceilDiv, defineOp, numel, type Attrs } from './op.js';

export interface FmaProbeAttrs extends Attrs {
  /** Invocations, and dependent FMA steps in each. */
  threads: number;
  steps: number;
}

const WG = 64;
/** Independent accumulators per invocation, so the chain is throughput-bound, not latency-bound. */
const LANES = 8;

/** What each invocation computes: LANES vec4 accumulators a ← a·m + c, summed at the end (m, c from the input). */
function referenceFma(threads: number, steps: number, m: number, c: number): Float64Array {
  const out = new Float64Array(threads);
  for (let t = 0; t < threads; t++) {
    let sum = 0;
    for (let l = 0; l < LANES; l++) {
      let a = (t % 7) * 0.001 + l * 0.01;
      for (let s = 0; s < steps; s++) a = a * m + c;
      sum += 4 * a;
    }
    out[t] = sum;
  }
  return out;
}

defineOp<FmaProbeAttrs>({
  name: 'fma_probe',
  shape: (_inputs, { threads }) => [[threads]],
  reference: ([mc], _shapes, { threads, steps }) => [referenceFma(threads, steps, mc[0], mc[1])],
  kernel: (_shapes, { threads, steps }) => ({
    programs: [
      {
        label: 'fma_probe',
        code: /* wgsl */ `
struct Params { threads: u32, steps: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mc: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= p.threads) { return; }
  let m = vec4f(mc[0]);
  let c = vec4f(mc[1]);
  let base = f32(id.x % 7u) * 0.001;
  ${Array.from({ length: LANES }, (_, l) => `var a${l} = vec4f(base + ${(l * 0.01).toFixed(2)});`).join('\n  ')}
  for (var s = 0u; s < p.steps; s++) {
    ${Array.from({ length: LANES }, (_, l) => `a${l} = fma(a${l}, m, c);`).join('\n    ')}
  }
  let sum = ${Array.from({ length: LANES }, (_, l) => `a${l}`).join(' + ')};
  out[id.x] = sum.x + sum.y + sum.z + sum.w;
}`,
        groups: [ceilDiv(threads, WG)],
        params: { values: [threads, steps] },
        bindings: ['in:0', 'out:0'],
      },
    ],
  }),
  flops: (_shapes, { threads, steps }) => threads * steps * LANES * 8,
});

defineOp({
  name: 'copy_probe',
  shape: ([x]) => [x],
  reference: ([x]) => [Float64Array.from(x)],
  kernel: ([x]) => {
    const n = numel(x);
    if (n % 4 !== 0) throw new Error(`copy_probe copies whole vec4s; ${n} values is not a multiple of 4`);
    return {
      programs: [
        {
          label: 'copy_probe',
          code: /* wgsl */ `
struct Params { n4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nw: vec3u) {
  for (var i = id.x; i < p.n4; i += nw.x * ${WG}u) { y[i] = x[i]; }
}`,
          groups: [Math.min(ceilDiv(n / 4, WG), 4096)],
          params: { values: [n / 4] },
          bindings: ['in:0', 'out:0'],
        },
      ],
    };
  },
});
