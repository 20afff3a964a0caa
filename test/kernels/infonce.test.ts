import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getOp, numel, type Attrs, type Shape, type Target } from '../../src/kernels/index.js';
import { runtime } from '../../src/gpu/runtime.js';
import { compileOp } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { checkGrad, checkOp, cpuGrad, runOnGpu } from '../helpers/check-op.js';
import { golden, type NtxentCase } from '../helpers/golden.js';
import { assertClose, randoms } from '../helpers/numeric.js';


const f64 = (x: ArrayLike<number>) => Float64Array.from(x);

/** Fused forward then fused backward (∂L/∂loss = 1), both on the GPU. */
async function lossAndGrad(z: Float64Array, shape: Shape, attrs: Attrs, target: Partial<Target> = {}): Promise<{ loss: number; grad: Float32Array }> {
  const [loss, lse, norms] = await runOnGpu('infonce', [z], [shape], attrs, target);
  const [grad] = await runOnGpu('infonce_backward', [z, f64(lse), f64(norms), Float64Array.of(1)], [shape, [lse.length], [norms.length], [1]], attrs, target);
  return { loss: loss[0], grad };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('golden ntxent.json: loss and ∂L/∂z within 1e-5 of PyTorch float64', async () => {
  const { cases } = golden<{ cases: NtxentCase[] }>('ntxent.json');
  assert.ok(cases.length >= 6, 'golden cases');
  for (const c of cases) {
    const { loss, grad } = await lossAndGrad(f64(c.z), [2 * c.n, c.d], { temperature: c.temperature });
    const what = `N=${c.n} D=${c.d} τ=${c.temperature}`;
    assert.ok(rel(loss, c.loss) <= 1e-5, `${what} loss ${loss} vs ${c.loss}`);
    assertClose(grad, c.grad, 1e-5, `${what} ∂L/∂z`);
  }
});

test('the discrete-GPU tile shape (chosen when the adapter is not software) gives the same golden results', async () => {
  const { cases } = golden<{ cases: NtxentCase[] }>('ntxent.json');
  for (const c of cases.filter((k) => k.n === 33 || k.n === 64)) {
    const { loss, grad } = await lossAndGrad(f64(c.z), [2 * c.n, c.d], { temperature: c.temperature }, { isSoftware: false });
    assert.ok(rel(loss, c.loss) <= 1e-5, `N=${c.n} loss ${loss} vs ${c.loss}`);
    assertClose(grad, c.grad, 1e-5, `N=${c.n} ∂L/∂z`);
  }
});

test('forward outputs (loss, lse, norms) match the float64 reference: odd N, D not a multiple of 4, many workgroups', async () => {
  await checkOp('infonce', [[2 * 13, 7]], { temperature: 0.2 });
  await checkOp('infonce', [[2 * 301, 20]], { temperature: 0.07 }, { seed: 5 });
  await checkOp('infonce', [[2 * 3, 1]], { temperature: 1.5 }, { seed: 9 });
  await checkOp('infonce', [[2, 3]], { temperature: 0.5 }, { seed: 6 });
  await checkOp('infonce', [[2 * 5, 263]], { temperature: 0.2 }, { seed: 4 });
});

test('backward kernel matches its float64 reference: whole quads, ragged D, rows too wide to copy (D > 256)', async () => {
  for (const [m, d, temperature] of [
    [2 * 150, 12, 0.1],
    [2 * 7, 9, 0.5],
    [2 * 9, 260, 0.3],
    [2 * 5, 263, 0.2],
  ]) {
    const z = randoms(m * d, 11 + m);
    const attrs = { temperature };
    const fwd = getOp('infonce').reference([z], [[m, d]], attrs);
    const shapes = [[m, d], [m], [m], [1]];
    await checkOp('infonce_backward', shapes, attrs, { inputs: [z, fwd[1], fwd[2], Float64Array.of(0.75)] });
  }
});

test('collapse: identical embeddings give ln(2N − 1)', async () => {
  for (const [n, d] of [
    [37, 16],
    [5, 3],
  ]) {
    const row = randoms(d, n);
    const z = new Float64Array(2 * n * d).map((_, i) => row[i % d]);
    const [loss] = await runOnGpu('infonce', [z], [[2 * n, d]], { temperature: 0.07 });
    const want = Math.log(2 * n - 1);
    assert.ok(rel(loss[0], want) <= 2e-6, `N=${n}: ${loss[0]} vs ln(${2 * n - 1}) = ${want}`);
  }
});

test('gradient rule equals finite differences, whole batch and an anchor block', () => {
  checkGrad('infonce', [[6, 5]], { temperature: 0.3 }, { outputs: [0] });
  checkGrad('infonce', [[10, 4]], { temperature: 0.5, anchor_offset: 3, anchor_count: 4 }, { outputs: [0], seed: 8 });
  const z = randoms(16, 2);
  const saved = (k: number) => cpuGrad('infonce', [z], [[4, 4]], { temperature: 0.5 }, [Float64Array.of(1), k === 1 ? new Float64Array(4) : undefined, k === 2 ? new Float64Array(4) : undefined]);
  assert.throws(() => saved(1), /saved statistics/);
  assert.throws(() => saved(2), /saved statistics/);
});

test('distributed form: anchor blocks of the key matrix sum to the single-device loss and gradient', async () => {
  const [m, d, temperature] = [2 * 21, 13, 0.1];
  const z = randoms(m * d, 21);
  const whole = await lossAndGrad(z, [m, d], { temperature });
  const blocks = [
    [0, 10],
    [10, 17],
    [27, 15],
  ];
  let loss = 0;
  const grad = new Float64Array(m * d);
  for (const [off, cnt] of blocks) {
    const attrs = { temperature, anchor_offset: off, anchor_count: cnt };
    const part = await lossAndGrad(z, [m, d], attrs);
    const [refLoss, lse, norms] = getOp('infonce').reference([z], [[m, d]], attrs);
    const [refGrad] = getOp('infonce_backward').reference([z, lse, norms, Float64Array.of(1)], [[m, d], [cnt], [m], [1]], attrs);
    assert.ok(rel(part.loss, refLoss[0]) <= 1e-5, `block [${off}, ${off + cnt}) loss ${part.loss} vs ${refLoss[0]}`);
    assertClose(part.grad, refGrad, 1e-5, `block [${off}, ${off + cnt}) ∂L/∂z`);
    loss += part.loss;
    part.grad.forEach((g, i) => (grad[i] += g));
  }
  assert.ok(rel(loss, whole.loss) <= 1e-5, `Σ block losses ${loss} vs ${whole.loss}`);
  assertClose(grad, whole.grad, 1e-5, 'Σ block gradients');
});

/** IEEE half bits of x, rounded to nearest even (inputs here are normal halves or zero). */
function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  const mant = b & 0x7fffff;
  let h = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

function halfValue(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  const v = exp ? (1 + (h & 0x3ff) / 1024) * 2 ** (exp - 15) : ((h & 0x3ff) / 1024) * 2 ** -14;
  return h & 0x8000 ? -v : v;
}

test('f16 inputs: exact on the rounded inputs (1e-5), within 5e-3 of the golden f64 values', async () => {
  const rt = await runtime();
  const attrs = { temperature: 0.1, half: true };
  if (!rt.target.hasF16) {
    assert.throws(() => getOp('infonce').kernel([[8, 4]], attrs, rt.target), /shader-f16/);
    return;
  }
  const { cases } = golden<{ cases: NtxentCase[] }>('ntxent.json');
  for (const c of cases.filter((k) => k.n === 16)) {
    const shape = [2 * c.n, c.d];
    const a = { ...attrs, temperature: c.temperature };
    const bits = Uint16Array.from(c.z, halfBits);
    const rounded = Float64Array.from(bits, halfValue);
    const nans = (s: number[]) => new Float32Array(numel(s)).fill(NaN);
    const fwdInitial = { 'in:0': bits, 'out:0': nans([1]), 'out:1': nans([2 * c.n]), 'out:2': nans([2 * c.n]) };
    const fwd = await StepExecutor.create(rt, compileOp('infonce', [shape], a, rt.target, ['f16']), { initial: fwdInitial });
    const bwdShapes = [shape, [2 * c.n], [2 * c.n], [1]];
    const bind = { 'in:0': fwd.buffer('in:0'), 'in:1': fwd.buffer('out:1'), 'in:2': fwd.buffer('out:2') };
    const initial = { 'in:3': Float32Array.of(1), 'out:0': nans(shape) };
    const bwd = await StepExecutor.create(rt, compileOp('infonce_backward', bwdShapes, a, rt.target, ['f16']), { bind, initial });
    fwd.record();
    bwd.record();
    const loss = (await fwd.read('out:0'))[0];
    const grad = await bwd.read('out:0');
    fwd.destroy();
    bwd.destroy();
    const ref = getOp('infonce').reference([rounded], [shape], { temperature: c.temperature });
    const [refGrad] = getOp('infonce_backward').reference([rounded, ref[1], ref[2], Float64Array.of(1)], bwdShapes, a);
    assert.ok(rel(loss, ref[0][0]) <= 1e-5, `f16 N=${c.n} loss ${loss} vs rounded-input reference ${ref[0][0]}`);
    assertClose(grad, refGrad, 1e-5, `f16 N=${c.n} ∂L/∂z vs rounded-input reference`);
    assert.ok(rel(loss, c.loss) <= 5e-3, `f16 N=${c.n} loss ${loss} vs golden ${c.loss}`);
    assertClose(grad, c.grad, 5e-3, `f16 N=${c.n} ∂L/∂z vs golden`);
  }
});

test('2N = 16,384 with D = 128 fits the adapter: dispatch sizes and bindings within limits', async () => {
  const rt = await runtime();
  const shape = [16384, 128];
  const plans = [getOp('infonce').kernel([shape], { temperature: 0.07 }, rt.target), getOp('infonce_backward').kernel([shape, [16384], [16384], [1]], { temperature: 0.07 }, rt.target)];
  for (const plan of plans) {
    for (const program of plan.programs) assert.ok(program.groups.every((g) => (g ?? 1) <= rt.target.maxWorkgroupsPerDimension), program.label);
    for (const bytes of plan.scratchBytes ?? []) assert.ok(bytes <= 16384 * 128 * 4, `scratch of ${bytes} bytes is O(N·D)`);
  }
  assert.throws(() => getOp('infonce').kernel([[2 * 300000, 128]], { temperature: 0.07 }, rt.target), /binding/);
});

test('shape rule rejects what NT-Xent cannot mean', () => {
  const shape = getOp('infonce').shape;
  assert.throws(() => shape([[7, 4]], { temperature: 0.1 }), /even number of rows/);
  assert.throws(() => shape([[8, 4]], { temperature: 0 }), /temperature/);
  assert.throws(() => shape([[8, 4]], { temperature: 0.1, anchor_offset: 6, anchor_count: 4 }), /anchor block \[6, 10\)/);
  assert.equal(shape([[8, 4]], { temperature: 0.1, anchor_offset: 2, anchor_count: 3 }), [[1], [3], [8]]);
});

test.run();
