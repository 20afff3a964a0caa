// In-place parameter updates: sgd_update (PyTorch SGD: momentum, L2 decay added to the gradient),
// adamw_update (PyTorch AdamW: decoupled decay, bias correction from the step count) and lars_update
// (google-research/simclr LARS). Each writes the parameter and its state back into their own
// buffers (the `inplace` map). `exclude: true` marks BatchNorm parameters and biases: no weight
// decay, and for LARS no trust ratio. The learning rate and AdamW's bias corrections come from the
// phase's per-step uniform, so a schedule changes them without re-planning anything.
import { FLAT_PARAMS, flatGroups, flatIndex } from './elementwise.js';
import { defineOp, numel, stepDecl, type Attrs, type Program, type Shape, type StepScalars } from './op.js';

const WG = 256;

/**
 * `guarded`: the update's last input is the step's found-inf flag of dynamic loss scaling
 * (src/kernels/loss_scale.ts); when it is set the update leaves weights and state as they were.
 */
interface Guarded extends Attrs {
  guarded?: boolean;
}

/** The binding of a guarded update's flag, its input `slot`. */
const flagOf = (attrs: Guarded, slot: number) => (attrs.guarded ? `in:${slot}` : undefined);

/** The parameter, gradient and state inputs, without the guard's flag. */
const own = <T>(xs: T[], attrs: Guarded): T[] => (attrs.guarded ? xs.slice(0, -1) : xs);

/** A guarded update's reference: the inputs unchanged when the flag is set. */
function guard(attrs: Guarded, inputs: Float64Array[], update: (inputs: Float64Array[]) => Float64Array[]): Float64Array[] {
  if (attrs.guarded && inputs[inputs.length - 1][0] !== 0) return own(inputs, attrs).filter((_, k) => k !== 1).map((x) => Float64Array.from(x));
  return update(own(inputs, attrs));
}

export interface SgdAttrs extends Guarded {
  momentum?: number;
  weight_decay?: number;
  exclude?: boolean;
}

export interface AdamWAttrs extends Guarded {
  betas?: [number, number];
  eps?: number;
  weight_decay?: number;
  exclude?: boolean;
}

export interface LarsAttrs extends Guarded {
  momentum?: number;
  weight_decay?: number;
  eeta?: number;
  exclude?: boolean;
}

function sameShapes(name: string, shapes: Shape[]): Shape[] {
  const [w] = shapes;
  for (const s of shapes) if (numel(s) !== numel(w)) throw new Error(`${name}: parameter [${w}] and its gradient/state [${s}] differ in size`);
  return shapes;
}

function scalars(op: string, step: StepScalars | undefined): StepScalars {
  if (!step) throw new Error(`${op} reads the learning rate from the step's scalars, and none were given`);
  return step;
}

const decay = (attrs: { weight_decay?: number; exclude?: boolean }) => (attrs.exclude ? 0 : (attrs.weight_decay ?? 0));

/** An elementwise update over n elements: `buffers` name the bindings in order (`name!` is written), `body` sees index i and the uniform p. */
function updateProgram(label: string, n: number, fields: string[], values: number[], given: Record<string, string>, body: string, flag?: string): Program {
  const buffers = flag ? { ...given, found: flag } : given;
  const names = Object.keys(buffers);
  return {
    label,
    code: /* wgsl */ `
struct Params { n: u32, ${fields.map((f) => `${f}: f32`).join(', ')} }
@group(0) @binding(0) var<uniform> p: Params;
${stepDecl(1)}
${names.map((b, k) => `@group(0) @binding(${k + 2}) var<storage, ${b.endsWith('!') ? 'read_write' : 'read'}> ${b.replace('!', '')}: array<${b === 'found' ? 'u32' : 'f32'}>;`).join('\n')}
@compute @workgroup_size(${WG}) fn main(${FLAT_PARAMS}) {
  let i = ${flatIndex(WG)};
  if (i >= p.n${flag ? ' || found[0] != 0u' : ''}) { return; }
  ${body}
}`,
    groups: flatGroups(n, WG),
    params: { values: [n, ...values], types: ['u32', ...values.map(() => 'f32' as const)] },
    bindings: ['step', ...Object.values(buffers)],
  };
}

/** w, g, v → w, v: d = g + wd·w; v = m·v + d; w −= lr·v (a zero v makes the first step v = d). */
defineOp<SgdAttrs>({
  name: 'sgd_update',
  shape: (shapes, attrs) => sameShapes('sgd_update', own(shapes, attrs)).filter((_, k) => k !== 1),
  reference: (inputs, _shapes, attrs, step) => guard(attrs, inputs, ([w, g, v]) => {
    const { lr } = scalars('sgd_update', step);
    const wd = decay(attrs);
    const m = attrs.momentum ?? 0;
    const v2 = v.map((vi, i) => m * vi + g[i] + wd * w[i]);
    return [w.map((wi, i) => wi - lr * v2[i]), v2];
  }),
  kernel: ([w], attrs) => ({
    programs: [
      updateProgram(
        'sgd_update',
        numel(w),
        ['momentum', 'wd'],
        [attrs.momentum ?? 0, decay(attrs)],
        { 'w!': 'out:0', g: 'in:1', 'v!': 'out:1' },
        `let v2 = p.momentum * v[i] + g[i] + p.wd * w[i];
  v[i] = v2;
  w[i] = w[i] - s.lr * v2;`,
        flagOf(attrs, 3),
      ),
    ],
  }),
  inplace: { 0: 0, 1: 2 },
  flops: ([w]) => 5 * numel(w),
});

/** w, g, m, v → w, m, v as torch.optim.AdamW (amsgrad off). */
defineOp<AdamWAttrs>({
  name: 'adamw_update',
  shape: (shapes, attrs) => sameShapes('adamw_update', own(shapes, attrs)).filter((_, k) => k !== 1),
  reference: (inputs, _shapes, attrs, step) => guard(attrs, inputs, ([w, g, m, v]) => {
    const { lr, bias1: c1, bias2: c2 } = scalars('adamw_update', step);
    const [b1, b2] = attrs.betas ?? [0.9, 0.999];
    const eps = attrs.eps ?? 1e-8;
    const m2 = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
    const v2 = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
    const w2 = w.map((wi, i) => wi * (1 - lr * decay(attrs)) - ((lr / c1) * m2[i]) / (Math.sqrt(v2[i]) / Math.sqrt(c2) + eps));
    return [w2, m2, v2];
  }),
  kernel: ([w], attrs) => {
    const [b1, b2] = attrs.betas ?? [0.9, 0.999];
    return {
      programs: [
        updateProgram(
          'adamw_update',
          numel(w),
          ['wd', 'b1', 'b2', 'eps'],
          [decay(attrs), b1, b2, attrs.eps ?? 1e-8],
          { 'w!': 'out:0', g: 'in:1', 'm!': 'out:1', 'v!': 'out:2' },
          `let m2 = p.b1 * m[i] + (1.0 - p.b1) * g[i];
  let v2 = p.b2 * v[i] + (1.0 - p.b2) * g[i] * g[i];
  m[i] = m2;
  v[i] = v2;
  w[i] = w[i] * (1.0 - s.lr * p.wd) - (s.lr / s.bias1) * m2 / (sqrt(v2) / sqrt(s.bias2) + p.eps);`,
          flagOf(attrs, 4),
        ),
      ],
    };
  },
  inplace: { 0: 0, 1: 2, 2: 3 },
  flops: ([w]) => 14 * numel(w),
});

const NORM_WG = 256;

/** ‖w‖ and ‖g + wd·w‖ of the whole tensor into two floats: one workgroup, strided, then a tree. */
function larsNormsProgram(n: number, wd: number): Program {
  return {
    label: 'lars_norms',
    code: /* wgsl */ `
struct Params { n: u32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> norms: array<f32>;
var<workgroup> sw: array<f32, ${NORM_WG}>;
var<workgroup> sg: array<f32, ${NORM_WG}>;
@compute @workgroup_size(${NORM_WG}) fn main(@builtin(local_invocation_index) t: u32) {
  var aw = 0.0;
  var ag = 0.0;
  for (var i = t; i < p.n; i += ${NORM_WG}u) {
    let d = g[i] + p.wd * w[i];
    aw += w[i] * w[i];
    ag += d * d;
  }
  sw[t] = aw;
  sg[t] = ag;
  workgroupBarrier();
  for (var half = ${NORM_WG / 2}u; half > 0u; half /= 2u) {
    if (t < half) { sw[t] += sw[t + half]; sg[t] += sg[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { norms[0] = sqrt(sw[0]); norms[1] = sqrt(sg[0]); }
}`,
    groups: [1],
    params: { values: [n, wd], types: ['u32', 'f32'] },
    bindings: ['in:0', 'in:1', 'tmp:0'],
  };
}

/**
 * w, g, v → w, v: d = g + wd·w; trust = eeta·‖w‖/‖d‖ (1 when either norm is 0, or excluded);
 * v = m·v + lr·trust·d; w −= v.
 */
defineOp<LarsAttrs>({
  name: 'lars_update',
  shape: (shapes, attrs) => sameShapes('lars_update', own(shapes, attrs)).filter((_, k) => k !== 1),
  reference: (inputs, _shapes, attrs, step) => guard(attrs, inputs, ([w, g, v]) => {
    const { lr } = scalars('lars_update', step);
    const wd = decay(attrs);
    const d = g.map((gi, i) => gi + wd * w[i]);
    let trust = 1;
    if (!attrs.exclude) {
      const wn = Math.sqrt(w.reduce((a, x) => a + x * x, 0));
      const dn = Math.sqrt(d.reduce((a, x) => a + x * x, 0));
      if (wn > 0 && dn > 0) trust = ((attrs.eeta ?? 0.001) * wn) / dn;
    }
    const m = attrs.momentum ?? 0.9;
    const v2 = v.map((vi, i) => m * vi + lr * trust * d[i]);
    return [w.map((wi, i) => wi - v2[i]), v2];
  }),
  kernel: ([w], attrs) => {
    const n = numel(w);
    const wd = decay(attrs);
    const excluded = !!attrs.exclude;
    const trust = excluded
      ? '1.0'
      : 'select(1.0, p.eeta * norms[0] / norms[1], norms[0] > 0.0 && norms[1] > 0.0)';
    const update = updateProgram(
      excluded ? 'lars_update_excluded' : 'lars_update',
      n,
      ['momentum', 'wd', 'eeta'],
      [attrs.momentum ?? 0.9, wd, attrs.eeta ?? 0.001],
      excluded ? { 'w!': 'out:0', g: 'in:1', 'v!': 'out:1' } : { 'w!': 'out:0', g: 'in:1', 'v!': 'out:1', norms: 'tmp:0' },
      `let d = g[i] + p.wd * w[i];
  let v2 = p.momentum * v[i] + s.lr * ${trust} * d;
  v[i] = v2;
  w[i] = w[i] - v2;`,
      flagOf(attrs, 3),
    );
    if (excluded) return { programs: [update] };
    return {
      programs: [larsNormsProgram(n, wd), update],
      scratchBytes: [8],
    };
  },
  inplace: { 0: 0, 1: 2 },
  flops: ([w]) => 9 * numel(w),
});
