// WGSL of the fused NT-Xent kernels. Every thread owns `ra` rows and streams over the keys `rk` at a
// time: a register tile of dot products, vec4 loads straight from storage and no workgroup memory,
// which is what lavapipe (a CPU) runs fastest. A thread copies its own rows (and, in the backward
// pass, their gradient accumulators) into private arrays once: on lavapipe that turns per-lane
// gathers from storage into plain vector loads, and the keys, the same for every lane, into
// broadcasts. Shapes travel in the uniform, so one pipeline per variant serves every N, temperature
// and anchor block; D only picks whole quads or not, and the private arrays' capacity.

export interface Variant {
  /** D is a multiple of 4: rows are read as whole vec4s; otherwise scalars, zero-padded to a quad. */
  vec4: boolean;
  /** z holds f16 values (accumulation stays f32). */
  half: boolean;
  /** Rows (anchors) per thread. */
  ra: number;
  /** Keys per inner step (a multiple of 4). */
  rk: number;
  wg: number;
  /** Capacity in quads of the private row copies; 0 streams rows from storage (very wide D). */
  quads: number;
}

/** Layout of the uniform every program reads; `params` builds the matching values. */
const PARAMS = `struct Params { m: u32, d: u32, dq: u32, off: u32, cnt: u32, half_m: u32, inv_t: f32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;`;

export interface Geometry {
  m: number;
  d: number;
  off: number;
  cnt: number;
  temperature: number;
}

export function params(g: Geometry): { values: number[]; types: ('u32' | 'f32')[] } {
  return {
    values: [g.m, g.d, Math.ceil(g.d / 4), g.off, g.cnt, g.m / 2, 1 / g.temperature, 1 / g.m],
    types: ['u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'f32', 'f32'],
  };
}

/** Binding 1 is z; `zq(row, q)` is its q-th quad of a row as vec4<f32>. */
function header(v: Variant): string {
  const scalar = v.half ? 'f16' : 'f32';
  const load = v.vec4
    ? `fn zq(row: u32, q: u32) -> vec4<f32> { return vec4<f32>(z[row * p.dq + q]); }`
    : `fn zc(b: u32, e: u32) -> f32 { return select(0.0, f32(z[min(b, e - 1u)]), b < e); }
fn zq(row: u32, q: u32) -> vec4<f32> {
  let b = row * p.d + q * 4u;
  let e = row * p.d + p.d;
  return vec4<f32>(zc(b, e), zc(b + 1u, e), zc(b + 2u, e), zc(b + 3u, e));
}`;
  return `${v.half ? 'enable f16;\n' : ''}${PARAMS}
@group(0) @binding(1) var<storage, read> z: array<${v.vec4 ? `vec4<${scalar}>` : scalar}>;
${load}
// F.normalize's guard: u = z / max(|z|, 1e-12).
fn inv_norm(n: f32) -> f32 { return 1.0 / max(n, 1e-12); }`;
}

const range = (n: number) => [...Array(n).keys()];

/** Private copies of the thread's rows r{a}, or nothing when rows stream from storage. */
function rowCopies(v: Variant): string {
  if (!v.quads) return '';
  return range(v.ra)
    .map((a) => `var xa${a}: array<vec4<f32>, ${v.quads}>;\n  for (var q = 0u; q < p.dq; q++) { xa${a}[q] = zq(r${a}, q); }`)
    .join('\n  ');
}

const rowQuad = (v: Variant) => (a: number) => (v.quads ? `xa${a}[q]` : `zq(r${a}, q)`);

/** ‖z_r‖ of every row. */
export function normsWgsl(v: Variant): string {
  return `${header(v)}
@group(0) @binding(2) var<storage, read_write> norms: array<f32>;
@compute @workgroup_size(${v.wg}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.m) { return; }
  var s = 0.0;
  for (var q = 0u; q < p.dq; q++) { let x = zq(r, q); s += dot(x, x); }
  norms[r] = sqrt(s);
}`;
}

/**
 * The dot products of this thread's rows x{a} with keys k{c} (clamped into range), summed over D
 * into acc{a}_{w} (component i of w is key 4w+i).
 */
function dotTile(v: Variant, x: (a: number) => string): string {
  const W = v.rk / 4;
  const lines: string[] = [];
  for (const a of range(v.ra)) for (const w of range(W)) lines.push(`var acc${a}_${w} = vec4<f32>(0.0);`);
  lines.push(`for (var q = 0u; q < p.dq; q++) {`);
  for (const c of range(v.rk)) lines.push(`  let y${c} = zq(k${c}, q);`);
  for (const a of range(v.ra)) {
    lines.push(`  let x${a} = ${x(a)};`);
    for (const w of range(W)) {
      const ks = range(4).map((i) => `dot(x${a}, y${4 * w + i})`);
      lines.push(`  acc${a}_${w} += vec4<f32>(${ks.join(', ')});`);
    }
  }
  lines.push(`}`);
  return lines.join('\n    ');
}

/** Key indices k{c} = j0 + c clamped to a real row, their reciprocal norms ik{w} and indices kv{w}. */
function keyHeads(v: Variant): string {
  const lines: string[] = [];
  for (const c of range(v.rk)) lines.push(`let k${c} = min(j0 + ${c}u, p.m - 1u);`);
  for (const w of range(v.rk / 4)) {
    const q = range(4).map((i) => 4 * w + i);
    lines.push(`let kv${w} = vec4<u32>(${q.map((c) => `j0 + ${c}u`).join(', ')});`);
    lines.push(`let ik${w} = vec4<f32>(${q.map((c) => `inv_norm(norms[k${c}])`).join(', ')});`);
  }
  return lines.join('\n    ');
}

const hmax = (x: string) => `max(max(${x}.x, ${x}.y), max(${x}.z, ${x}.w))`;
const hsum = (x: string) => `dot(${x}, vec4<f32>(1.0))`;

/**
 * Forward: each anchor's online (streaming) max and sum of exp over all keys but itself, and its
 * positive logit; writes lse and lse − positive per anchor. Nothing of size M×M is stored.
 */
export function forwardWgsl(v: Variant): string {
  const W = v.rk / 4;
  const per = (f: (a: number) => string) => range(v.ra).map(f).join('\n  ');
  const update = range(v.ra)
    .map((a) => {
      const lines: string[] = [];
      for (const w of range(W)) {
        lines.push(`let s${a}_${w} = acc${a}_${w} * ik${w} * sa${a};`);
        lines.push(`let ok${a}_${w} = (kv${w} < vec4<u32>(p.m)) & (kv${w} != vec4<u32>(r${a}));`);
        lines.push(`pl${a} += ${hsum(`select(vec4<f32>(0.0), s${a}_${w}, kv${w} == vec4<u32>(pos${a}))`)};`);
      }
      const maxes = range(W).map((w) => hmax(`select(vec4<f32>(-3.0e38), s${a}_${w}, ok${a}_${w})`));
      lines.push(`let cm${a} = max(mx${a}, ${maxes.reduce((x, y) => `max(${x}, ${y})`)});`);
      const sums = range(W).map((w) => hsum(`select(vec4<f32>(0.0), exp(s${a}_${w} - cm${a}), ok${a}_${w})`));
      lines.push(`se${a} = se${a} * exp(mx${a} - cm${a}) + ${sums.join(' + ')};`);
      lines.push(`mx${a} = cm${a};`);
      return lines.join('\n    ');
    })
    .join('\n    ');
  return `${header(v)}
@group(0) @binding(2) var<storage, read> norms: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;
@compute @workgroup_size(${v.wg}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let l0 = gid.x * ${v.ra}u;
  if (l0 >= p.cnt) { return; }
  ${per((a) => `let r${a} = p.off + min(l0 + ${a}u, p.cnt - 1u);`)}
  ${per((a) => `let sa${a} = inv_norm(norms[r${a}]) * p.inv_t;`)}
  ${per((a) => `let pos${a} = (r${a} + p.half_m) % p.m;`)}
  ${per((a) => `var mx${a} = -3.0e38;\n  var se${a} = 0.0;\n  var pl${a} = 0.0;`)}
  ${rowCopies(v)}
  for (var j0 = 0u; j0 < p.m; j0 += ${v.rk}u) {
    ${keyHeads(v)}
    ${dotTile(v, rowQuad(v))}
    ${update}
  }
  ${per((a) => `if (l0 + ${a}u < p.cnt) {\n    let l = mx${a} + log(se${a});\n    lse[l0 + ${a}u] = l;\n    terms[l0 + ${a}u] = l - pl${a};\n  }`)}
}`;
}

/** loss = Σ terms / M (M, not the block size: the blocks of all devices sum to the global mean). */
export function meanWgsl(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> terms: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.cnt; i += 256u) { s += terms[i]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var h = 128u; h > 0u; h >>= 1u) {
    if (lid.x < h) { part[lid.x] += part[lid.x + h]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { loss[0] = part[0] * p.scale; }
}`;
}

/**
 * Backward, one pass using S = Sᵀ: thread rows k, keys j; coefficient
 * c_kj = [k∈B](P_kj − Y_kj) + [j∈B](P_jk − Y_jk), so G_k = Σ_j c_kj u_j is ((A + Aᵀ)U)_k up to the
 * scale g/(Mτ): one dot product per pair serves both A_kj and A_jk. G accumulates in private arrays
 * (or, for very wide rows, in storage rows only this thread touches); the thread then applies the
 * normalisation's Jacobian to its own rows. Rows outside the anchor block only meet keys inside it.
 */
export function backwardWgsl(v: Variant): string {
  const W = v.rk / 4;
  const per = (f: (a: number) => string, sep = '\n  ') => range(v.ra).map(f).join(sep);
  const coeffs = range(v.ra)
    .map((a) => {
      const lines: string[] = [];
      for (const w of range(W)) {
        lines.push(`let s${a}_${w} = acc${a}_${w} * ik${w} * sa${a};`);
        lines.push(`let y${a}_${w} = select(vec4<f32>(0.0), vec4<f32>(1.0), kv${w} == vec4<u32>(pos${a}));`);
        lines.push(
          `let c${a}_${w} = select(vec4<f32>(0.0), exp(s${a}_${w} - lk${a}) - y${a}_${w}, in${a}) + select(vec4<f32>(0.0), exp(s${a}_${w} - lj${w}) - y${a}_${w}, jin${w});`,
        );
        lines.push(`let e${a}_${w} = select(vec4<f32>(0.0), c${a}_${w} * ik${w}, (kv${w} < vec4<u32>(hi)) & (kv${w} != vec4<u32>(r${a})));`);
      }
      return lines.join('\n    ');
    })
    .join('\n    ');
  const jside = range(W)
    .map((w) => {
      const q = range(4).map((i) => 4 * w + i);
      return [
        `let jin${w} = (kv${w} - vec4<u32>(p.off)) < vec4<u32>(p.cnt);`,
        `let lj${w} = vec4<f32>(${q.map((c) => `lse[min(k${c} - p.off, p.cnt - 1u)]`).join(', ')});`,
      ].join('\n    ');
    })
    .join('\n    ');
  // ∂L/∂U rows accumulate privately, or in `gacc` (rows private to the thread) when they stream.
  const g = (a: number) => (v.quads ? `ga${a}[q]` : `gacc[r${a} * p.dq + q]`);
  const guard = (a: number, body: string) => (v.quads ? body : `if (live${a}) { ${body} }`);
  const axpy: string[] = [`for (var q = 0u; q < p.dq; q++) {`];
  for (const c of range(v.rk)) axpy.push(`  let y${c} = zq(k${c}, q);`);
  for (const a of range(v.ra)) {
    const terms = range(v.rk).map((c) => `e${a}_${c >> 2}.${'xyzw'[c & 3]} * y${c}`);
    axpy.push(`  ${guard(a, `${g(a)} += ${terms.join(' + ')};`)}`);
  }
  axpy.push(`}`);
  const x = rowQuad(v);
  const finish = per(
    (a) => `if (live${a}) {
    let ik = inv_norm(norms[r${a}]);
    let sc = gl[0] * p.inv_t * p.scale;
    var ug = 0.0;
    for (var q = 0u; q < p.dq; q++) { ug += dot(${x(a)} * ik, ${g(a)}); }
    // Below the 1e-12 guard u = z / 1e-12 is linear in z: no projection.
    let proj = select(ug * ik, 0.0, norms[r${a}] <= 1e-12);
    for (var q = 0u; q < p.dq; q++) { put(r${a}, q, (${g(a)} - proj * ${x(a)}) * (sc * ik)); }
  }`,
  );
  // With whole quads dz is written as vec4s (in streaming mode it is the accumulator itself).
  const dzBinding = v.quads ? 5 : 6;
  const put = v.vec4
    ? `${v.quads ? `@group(0) @binding(5) var<storage, read_write> dz: array<vec4<f32>>;\n` : ''}fn put(row: u32, q: u32, x: vec4<f32>) { ${v.quads ? 'dz' : 'gacc'}[row * p.dq + q] = x; }`
    : `@group(0) @binding(${dzBinding}) var<storage, read_write> dz: array<f32>;
fn put(row: u32, q: u32, x: vec4<f32>) {
  let b = row * p.d + q * 4u;
  for (var i = 0u; i < 4u; i++) { if (q * 4u + i < p.d) { dz[b + i] = x[i]; } }
}`;
  const init = v.quads
    ? per((a) => `var ga${a}: array<vec4<f32>, ${v.quads}>;`)
    : per((a) => `if (live${a}) { for (var q = 0u; q < p.dq; q++) { gacc[r${a} * p.dq + q] = vec4<f32>(0.0); } }`);
  return `${header(v)}
@group(0) @binding(2) var<storage, read> norms: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> gl: array<f32>;
${v.quads ? '' : '@group(0) @binding(5) var<storage, read_write> gacc: array<vec4<f32>>;\n'}${put}
@compute @workgroup_size(${v.wg}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let k0 = gid.x * ${v.ra}u;
  if (k0 >= p.m) { return; }
  ${per((a) => `let r${a} = min(k0 + ${a}u, p.m - 1u);\n  let live${a} = k0 + ${a}u < p.m;`)}
  ${per((a) => `let sa${a} = inv_norm(norms[r${a}]) * p.inv_t;`)}
  ${per((a) => `let pos${a} = (r${a} + p.half_m) % p.m;`)}
  ${per((a) => `let in${a} = (r${a} - p.off) < p.cnt;`)}
  ${per((a) => `let lk${a} = lse[min(r${a} - p.off, p.cnt - 1u)];`)}
  ${rowCopies(v)}
  ${init}
  // A row block that holds no anchor meets only the anchors' keys.
  let any_in = ${per((a) => `in${a}`, ' || ')};
  let lo = select(p.off, 0u, any_in);
  let hi = select(p.off + p.cnt, p.m, any_in);
  for (var j0 = lo; j0 < hi; j0 += ${v.rk}u) {
    ${keyHeads(v)}
    ${jside}
    ${dotTile(v, x)}
    ${coeffs}
    ${axpy.join('\n    ')}
  }
  ${finish}
}`;
}
