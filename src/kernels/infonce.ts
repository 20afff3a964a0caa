// Fused NT-Xent (InfoNCE): forward and backward never form the 2N×2N similarity matrix.
//
// Input z [M, D] (M = 2N, z = cat(view1, view2), unnormalised). The anchors are rows
// [anchor_offset, anchor_offset + anchor_count) of z, and every row of z is a key: one device of a
// distributed run passes the all-gathered keys and its own block; one device alone passes the whole
// batch (the defaults). The positive of row i is (i + M/2) mod M, the diagonal is masked, and
//   loss = (1/M) Σ_{anchors i} (lse_i − s_{i,pos(i)}),  s = u uᵀ/τ,  u = z / max(‖z‖, 1e-12),
// so the block losses of all devices sum to the global mean, and so do their gradients ∂L/∂z
// (a device whose anchors are two blocks, its view-1 and view-2 rows, runs the op once per block).
// Outputs: loss [1]; lse [anchor_count] and ‖z‖ [M], the statistics the backward pass reuses.
import { ceilDiv, defineOp, type Shape, type Target } from './op.js';
import { backwardWgsl, forwardWgsl, meanWgsl, normsWgsl, params, type Geometry, type Variant } from './infonce_wgsl.js';

export interface InfonceAttrs {
  [key: string]: unknown;
  temperature: number;
  anchor_offset?: number;
  anchor_count?: number;
  /** z is stored as f16 (needs shader-f16); all arithmetic stays f32. */
  half?: boolean;
}

const EPS = 1e-12;

export function geometry([z]: Shape[], attrs: InfonceAttrs): Geometry {
  if (z.length !== 2) throw new Error(`infonce: z must be [2N, D], got [${z}]`);
  const [m, d] = z;
  const off = attrs.anchor_offset ?? 0;
  const cnt = attrs.anchor_count ?? m - off;
  const temperature = attrs.temperature;
  if (m < 2 || m % 2) throw new Error(`infonce: z needs an even number of rows (two views), got ${m}`);
  if (d < 1) throw new Error('infonce: D must be at least 1');
  if (!(temperature > 0)) throw new Error(`infonce: temperature must be positive, got ${temperature}`);
  if (!Number.isInteger(off) || !Number.isInteger(cnt) || off < 0 || cnt < 1 || off + cnt > m) {
    throw new Error(`infonce: anchor block [${off}, ${off + cnt}) is not inside the ${m} rows of z`);
  }
  return { m, d, off, cnt, temperature };
}

/** Widest D (in quads) whose rows a thread copies into private arrays; wider rows stream. */
const MAX_PRIVATE_QUADS = 64;

/** Tile shape per adapter: lavapipe wants few threads with big register tiles. */
export function variant(g: Geometry, attrs: InfonceAttrs, target: Target): Variant {
  if (attrs.half && !target.hasF16) throw new Error('infonce: half inputs need an adapter with shader-f16');
  const dq = Math.ceil(g.d / 4);
  const stream = dq > MAX_PRIVATE_QUADS;
  const vec4 = g.d % 4 === 0;
  const half = !!attrs.half;
  if (target.isSoftware) {
    // 8 rows per thread amortise each key load (a gather on lavapipe) over 32 dot products; one
    // private capacity for every width, since each distinct pipeline costs seconds of JIT there.
    // Rows that stream spend their time in storage traffic, not in the tile: 4 rows compile faster.
    return stream ? { vec4, half, quads: 0, ra: 4, rk: 4, wg: 16 } : { vec4, half, quads: MAX_PRIVATE_QUADS, ra: 8, rk: 4, wg: 16 };
  }
  // Discrete GPUs: one row per thread for occupancy, the keys (the same across a warp) broadcast,
  // and private arrays no larger than D needs (they live in registers).
  const quads = stream ? 0 : dq > 16 ? MAX_PRIVATE_QUADS : 16;
  return { vec4, half, quads, ra: 1, rk: 4, wg: 64 };
}

/** The binding of z and the widest dispatch (the norms pass, one row per thread) must fit the adapter. */
function checkLimits(g: Geometry, v: Variant, target: Target): void {
  const bytes = g.m * Math.ceil(g.d / 4) * 16;
  if (bytes > target.maxStorageBufferBindingSize) {
    throw new Error(`infonce: z of ${g.m}×${g.d} needs ${bytes} bytes in one binding; the adapter allows ${target.maxStorageBufferBindingSize}`);
  }
  if (ceilDiv(g.m, v.wg) > target.maxWorkgroupsPerDimension) {
    throw new Error(`infonce: ${g.m} rows need more than the adapter's ${target.maxWorkgroupsPerDimension} workgroups per dispatch`);
  }
}

/** u = z / max(‖z‖, ε) and the norms, in float64. */
function normalise(z: Float64Array, m: number, d: number, norms?: Float64Array): { u: Float64Array; n: Float64Array } {
  const u = new Float64Array(m * d);
  const n = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += z[i * d + k] ** 2;
    n[i] = norms ? norms[i] : Math.sqrt(s);
    const inv = 1 / Math.max(n[i], EPS);
    for (let k = 0; k < d; k++) u[i * d + k] = z[i * d + k] * inv;
  }
  return { u, n };
}

function similarity(u: Float64Array, d: number, i: number, j: number, temperature: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += u[i * d + k] * u[j * d + k];
  return s / temperature;
}

defineOp<InfonceAttrs>({
  name: 'infonce',
  shape: (shapes, attrs) => {
    const g = geometry(shapes, attrs);
    return [[1], [g.cnt], [g.m]];
  },
  reference: ([z], shapes, attrs) => {
    const { m, d, off, cnt, temperature } = geometry(shapes, attrs);
    const { u, n } = normalise(z, m, d);
    const lse = new Float64Array(cnt);
    let total = 0;
    for (let a = 0; a < cnt; a++) {
      const i = off + a;
      const row: number[] = [];
      for (let j = 0; j < m; j++) if (j !== i) row.push(similarity(u, d, i, j, temperature));
      const mx = row.reduce((a, b) => Math.max(a, b), -Infinity);
      lse[a] = mx + Math.log(row.reduce((acc, s) => acc + Math.exp(s - mx), 0));
      total += lse[a] - similarity(u, d, i, (i + m / 2) % m, temperature);
    }
    return [Float64Array.of(total / m), lse, n];
  },
  kernel: (shapes, attrs, target) => {
    const g = geometry(shapes, attrs);
    const v = variant(g, attrs, target);
    checkLimits(g, v, target);
    const p = params(g);
    return {
      programs: [
        { label: 'infonce_norms', code: normsWgsl(v), groups: [ceilDiv(g.m, v.wg)], params: p, bindings: ['in:0', 'out:2'] },
        {
          label: 'infonce_rows',
          code: forwardWgsl(v),
          groups: [ceilDiv(g.cnt, v.ra * v.wg)],
          params: p,
          bindings: ['in:0', 'out:2', 'out:1', 'tmp:0'],
        },
        { label: 'infonce_mean', code: meanWgsl(), groups: [1], params: p, bindings: ['tmp:0', 'out:0'] },
      ],
      scratchBytes: [g.cnt * 4],
    };
  },
  grad: ({ inputs: [z], outputs: [, lse, norms], grads: [g, glse, gnorms], attrs, emit }) => {
    if (glse || gnorms) throw new Error('infonce: lse and norms are saved statistics for the backward pass, not differentiable outputs');
    return [g && emit('infonce_backward', [z, lse, norms, g], attrs)[0]];
  },
  flops: (shapes, attrs) => {
    const g = geometry(shapes, attrs);
    return 2 * g.cnt * g.m * g.d + 6 * g.cnt * g.m;
  },
});

/**
 * ∂L/∂z from z, the forward's lse and norms, and ∂L/∂loss: A = (P − Y)/(Mτ) on the anchor rows,
 * ∂L/∂U = (A + Aᵀ)U, ∂L/∂z_i = (g_i − (u_i·g_i)u_i)/‖z_i‖.
 */
defineOp<InfonceAttrs>({
  name: 'infonce_backward',
  shape: ([z]) => [z],
  reference: ([z, lse, norms, gl], [shape], attrs) => {
    const { m, d, off, cnt, temperature } = geometry([shape], attrs);
    const { u, n } = normalise(z, m, d, norms);
    const gu = new Float64Array(m * d);
    const scale = gl[0] / (m * temperature);
    for (let a = 0; a < cnt; a++) {
      const i = off + a;
      const pos = (i + m / 2) % m;
      for (let j = 0; j < m; j++) {
        if (j === i) continue;
        const coef = (Math.exp(similarity(u, d, i, j, temperature) - lse[a]) - (j === pos ? 1 : 0)) * scale;
        for (let k = 0; k < d; k++) {
          gu[i * d + k] += coef * u[j * d + k];
          gu[j * d + k] += coef * u[i * d + k];
        }
      }
    }
    const dz = new Float64Array(m * d);
    for (let i = 0; i < m; i++) {
      const inv = 1 / Math.max(n[i], EPS);
      let ug = 0;
      for (let k = 0; k < d; k++) ug += u[i * d + k] * gu[i * d + k];
      if (n[i] <= EPS) ug = 0;
      for (let k = 0; k < d; k++) dz[i * d + k] = (gu[i * d + k] - ug * u[i * d + k]) * inv;
    }
    return [dz];
  },
  kernel: ([z], attrs, target) => {
    const g = geometry([z], attrs);
    const v = variant(g, attrs, target);
    checkLimits(g, v, target);
    const code = backwardWgsl(v);
    const groups: [number] = [ceilDiv(g.m, v.ra * v.wg)];
    const bindings = ['in:0', 'in:2', 'in:1', 'in:3', 'out:0'];
    // Rows that stream keep their accumulators in storage: ∂L/∂z itself, or a padded scratch for ragged D.
    if (v.quads || v.vec4) return { programs: [{ label: 'infonce_backward', code, groups, params: params(g), bindings }] };
    return {
      programs: [{ label: 'infonce_backward', code, groups, params: params(g), bindings: [...bindings.slice(0, 4), 'tmp:0', 'out:0'] }],
      scratchBytes: [g.m * Math.ceil(g.d / 4) * 16],
    };
  },
  flops: ([z], attrs) => {
    const g = geometry([z], attrs);
    const pairs = g.m * g.m - (g.m - g.cnt) ** 2;
    return 4 * pairs * g.d + 8 * pairs;
  },
});
