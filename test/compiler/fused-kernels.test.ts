// Epilogue and prologue fusion rewrite another op's WGSL: each two-node graph (op → relu, or
// relu_backward → op) must fuse into one kernel equal on the GPU to the op's float64 reference with
// relu applied to its output (or relu_backward to an input), and kernels that read or accumulate
// into their output are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { opGraph } from '../../src/compiler/compile.js';
import { withEpilogue } from '../../src/compiler/epilogue.js';
import { fuse } from '../../src/compiler/fuse.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { Graph } from '../../src/ir/graph.js';
import { SOFTWARE_TARGET, type Target } from '../../src/kernels/op.js';
import { getOp, type Attrs, type KernelPlan, type Shape } from '../../src/kernels/index.js';
import { randomInputs, runFused } from '../helpers/check-op.js';
import { assertClose } from '../helpers/numeric.js';
import { layer } from '../helpers/spec.js';

const { eps, momentum } = layer({ type: 'batchnorm' });

const feeds = (inputs: Float64Array[]) => Object.fromEntries(inputs.map((x, k) => [`in:${k}`, x]));

async function checkRelu(op: string, shapes: Shape[], attrs: Attrs = {}): Promise<void> {
  const def = getOp(op);
  const g = opGraph(op, shapes, attrs);
  const [y] = g.add('relu', [g.tensor(g.outputs.get('out:0')!)], {}, 'relu');
  g.outputs.set('out:0', y.id);
  const inputs = randomInputs(shapes, 5);
  const want = def.reference(inputs, shapes, attrs)[0].map((v) => Math.max(v, 0));
  const { labels, outputs } = await runFused(g, feeds(inputs));
  assert.equal(labels, [`${op}+relu`], `${op} takes a relu epilogue`);
  const got = outputs['out:0'];
  assert.ok(got.some((v) => v === 0) && got.some((v) => v > 0), `${op}: the relu both clips and passes`);
  assertClose(got, want, 1e-5, `${op}+relu ${JSON.stringify(shapes)}`);
}

test('conv2d+relu equals relu of the conv reference', () => checkRelu('conv2d', [[2, 3, 7, 5], [5, 3, 3, 3], [5]], { stride: 2, padding: 1 }));
test('linear+bias+relu equals relu of the reference (4-vector variant)', () => checkRelu('linear', [[6, 8], [12, 8], [12]]));
test('linear+bias+relu equals relu of the reference (scalar variant, odd sizes)', () => checkRelu('linear', [[5, 7], [3, 7], [3]]));
test('batchnorm apply+relu equals relu of the reference', () => checkRelu('batchnorm', [[4, 3, 3, 2], [3], [3], [3], [3]], { eps, momentum }));

/** The op with relu_backward(mask, input) folded into its loads of `input`, against the references. */
async function checkMasked(op: string, shapes: Shape[], attrs: Attrs, input: number): Promise<void> {
  const def = getOp(op);
  const g = new Graph();
  const ins = [...shapes, shapes[input]].map((s, k) => g.leaf('input', s, op, { name: `in:${k}` }));
  const [dx] = g.add('relu_backward', [ins[shapes.length], ins[input]], {}, 'relu_backward');
  g.add(op, ins.slice(0, shapes.length).map((t, k) => (k === input ? dx : t)), attrs, op).forEach((t, k) => g.outputs.set(`out:${k}`, t.id));
  const inputs = randomInputs([...shapes, shapes[input]], 9);
  const mask = inputs[shapes.length];
  const masked = inputs.slice(0, shapes.length).map((x, k) => (k === input ? getOp('relu_backward').reference([mask, x], [], {})[0] : x));
  const want = def.reference(masked, shapes, attrs);
  const { labels, outputs } = await runFused(g, feeds(inputs));
  assert.equal(labels, [`relu_backward+${op}`], `${op} takes a masked input ${input}`);
  for (let k = 0; k < want.length; k++) assertClose(outputs[`out:${k}`], want[k], 1e-5, `${op} output ${k}`);
}

test('relu_backward folded into matmul loads (both operand layouts) equals the references', async () => {
  await checkMasked('matmul', [[6, 8], [8, 5]], {}, 0);
  await checkMasked('matmul', [[6, 8], [6, 5]], { transA: true }, 0);
});
test('relu_backward folded into batchnorm_backward loads equals the reference', () =>
  checkMasked('batchnorm_backward', [[4, 3, 2, 2], [3], [3], [3], [4, 3, 2, 2]], { eps }, 4));

/**
 * BN → ReLU (→ maxpool) forward and the backward autodiff makes of it, from a gradient at the relu
 * (or the pool): [maxpool2d_backward →] relu_backward → batchnorm_backward. Fused, the relu's mask is
 * recomputed by batchnorm_backward from x and the pool's gradient is gathered at its loads; the GPU
 * must still equal the unfused graph evaluated in float64.
 */
async function checkBnReluBackward(x: number[], pool?: { kernel: number; stride: number; padding: number }, folded = false, target: Partial<Target> = {}): Promise<void> {
  const backward = [...(pool && !folded ? ['maxpool2d_backward'] : []), `${folded ? 'maxpool2d_backward+' : ''}batchnorm_backward+relu_backward`];
  const g = new Graph();
  const c = [x[1]];
  const leaf = (name: string, shape: number[]) => g.leaf('input', shape, 'bn', { name });
  const [xs, gamma, beta, rm, rv] = [leaf('x', x), leaf('gamma', c), leaf('beta', c), leaf('rm', c), leaf('rv', c)];
  const [bn, , , mean, invstd] = g.add('batchnorm', [xs, gamma, beta, rm, rv], { eps, momentum }, 'bn');
  const [y] = g.add('relu', [bn], {}, 'relu');
  let gy;
  if (pool) {
    const [, arg] = g.add('maxpool2d', [y], pool, 'pool');
    const gp = leaf('g', arg.shape);
    [gy] = g.add('maxpool2d_backward', [arg, gp], { ...pool, input_size: x.slice(2) }, 'pool', 'backward');
  } else {
    gy = leaf('g', x);
  }
  const [masked] = g.add('relu_backward', [y, gy], {}, 'relu', 'backward');
  const [dx, dgamma, dbeta] = g.add('batchnorm_backward', [xs, gamma, mean, invstd, masked], { eps }, 'bn', 'backward');
  Object.entries({ dx, dgamma, dbeta }).forEach(([name, t]) => g.outputs.set(name, t.id));
  const shapeOf = (name: string) => g.tensors.find((t) => t.name === name)!.shape;
  const names = ['x', 'beta', 'rm', 'g'];
  const feeds: Record<string, Float64Array> = Object.fromEntries(names.map((name, k) => [name, randomInputs([shapeOf(name)], 13 + k)[0]]));
  // |γ| well away from 0, so no channel's ∂x is too small to show a misrouted gradient.
  feeds.gamma = Float64Array.from({ length: c[0] }, (_, i) => (i % 2 ? -1 : 1) * (0.6 + (0.8 * i) / c[0]));
  feeds.rv = Float64Array.from({ length: c[0] }, (_, i) => 0.5 + i / c[0]);
  const want = namedOutputs(g, evaluate(g, feeds));
  // The fused graph's own float64 evaluation checks the ops' references of the fused forms.
  const wantFused = namedOutputs(g, evaluate(fuse(g, { ...SOFTWARE_TARGET, ...target }), feeds));
  const { labels, outputs } = await runFused(g, feeds, target);
  assert.equal(labels.filter((l) => l.includes('backward')), backward, `backward kernels of ${JSON.stringify({ x, pool, target })}`);
  for (const name of ['dx', 'dgamma', 'dbeta']) {
    assertClose(wantFused[name], want[name], 1e-12, `${name}: the fused graph in float64`);
    assertClose(outputs[name], want[name], 1e-5, `${name} of ${JSON.stringify({ x, pool })}`);
  }
}

test('BN→ReLU backward: batchnorm_backward recomputes the relu mask (flat, 4-vector and element planes, [N, C])', async () => {
  await checkBnReluBackward([4, 3, 5, 5]);
  await checkBnReluBackward([2, 3, 8, 8]);
  await checkBnReluBackward([2, 3, 9, 9]);
  await checkBnReluBackward([9, 5]);
});

test('BN→ReLU→maxpool backward: the pool gradient gathered at batchnorm_backward loads', async () => {
  // A CPU adapter folds only rows of whole 4-vectors (2×2/2 on 8×8); a GPU also 4-vectors spanning
  // two rows (10×10), the element form in flat planes (7×7: the last row and column in no window;
  // padding 1 shifting every cell) and in a 4-vector loader without a 4-vector form (2×2/3: a gap
  // between windows). 3×3/2 overlaps and keeps its own kernel everywhere.
  const gpu = { isSoftware: false };
  const k2 = { kernel: 2, stride: 2, padding: 0 };
  await checkBnReluBackward([2, 3, 8, 8], k2, true);
  await checkBnReluBackward([2, 2, 10, 10], k2, false);
  await checkBnReluBackward([2, 2, 8, 8], k2, true, gpu);
  await checkBnReluBackward([2, 2, 10, 10], k2, true, gpu);
  await checkBnReluBackward([2, 3, 7, 7], k2, true, gpu);
  await checkBnReluBackward([2, 2, 8, 9], { kernel: 2, stride: 3, padding: 0 }, true, gpu);
  await checkBnReluBackward([2, 2, 6, 7], { kernel: 2, stride: 2, padding: 1 }, true, gpu);
  await checkBnReluBackward([2, 2, 7, 7], { kernel: 3, stride: 2, padding: 1 }, false, gpu);
});

/** BN (training or eval) [→ ReLU] → maxpool: one kernel when the pool can run in BN's apply, equal to the unfused graph in float64. */
async function checkBnPool(x: number[], op: 'batchnorm' | 'batchnorm_eval', relu: boolean, pool: { kernel: number; stride: number; padding: number }, fused: boolean): Promise<void> {
  const g = new Graph();
  const c = [x[1]];
  const leaf = (name: string, shape: number[]) => g.leaf('input', shape, 'bn', { name });
  const ins = [leaf('x', x), leaf('gamma', c), leaf('beta', c), leaf('rm', c), leaf('rv', c)];
  const [bn] = g.add(op, ins, { eps, momentum }, 'bn');
  const [y] = relu ? g.add('relu', [bn], {}, 'relu') : [bn];
  const [pooled, arg] = g.add('maxpool2d', [y], pool, 'pool');
  Object.entries({ pooled, arg }).forEach(([name, t]) => g.outputs.set(name, t.id));
  const feeds: Record<string, Float64Array> = Object.fromEntries(['x', 'gamma', 'beta', 'rm'].map((name, k) => [name, randomInputs([k ? c : x], 31 + k)[0]]));
  feeds.rv = Float64Array.from({ length: c[0] }, (_, i) => 0.5 + i / c[0]);
  const want = namedOutputs(g, evaluate(g, feeds));
  const { labels, outputs } = await runFused(g, feeds);
  const bnLabel = [op, ...(relu ? ['relu'] : [])].join('+');
  assert.equal(labels, fused ? [`${bnLabel}+maxpool2d`] : [bnLabel, 'maxpool2d'], `kernels of ${JSON.stringify({ x, op, relu, pool })}`);
  assertClose(outputs.pooled, want.pooled, 1e-5, `pooled ${JSON.stringify({ x, op, relu })}`);
  // Argmaxes are small integers: exact, including the ties of windows the relu zeroes.
  assert.equal(Array.from(outputs.arg), Array.from(want.arg), `argmax ${JSON.stringify({ x, op, relu })}`);
  if (relu) assert.ok(want.pooled.some((v) => v === 0), 'some window is all zeros after the relu');
}

test('BN→ReLU→maxpool forward: the pool runs in BN\'s apply (4- and 2-vector rows, odd height, eval, no relu)', async () => {
  const k2 = { kernel: 2, stride: 2, padding: 0 };
  await checkBnPool([2, 3, 8, 8], 'batchnorm', true, k2, true);
  await checkBnPool([2, 2, 6, 10], 'batchnorm', true, k2, true);
  await checkBnPool([3, 2, 7, 8], 'batchnorm', true, k2, true);
  await checkBnPool([2, 3, 8, 8], 'batchnorm_eval', true, k2, true);
  await checkBnPool([2, 3, 6, 6], 'batchnorm', false, k2, true);
  await checkBnPool([2, 2, 8, 7], 'batchnorm', true, k2, false);
  await checkBnPool([2, 2, 8, 8], 'batchnorm', true, { kernel: 3, stride: 2, padding: 1 }, false);
});

test('a kernel that reads or accumulates into its output is not rewritten', () => {
  const program = (body: string): KernelPlan => ({
    programs: [
      {
        label: 'acc',
        code: `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) { ${body} }`,
        groups: [1],
        params: { values: [1] },
        bindings: ['in:0', 'out:0'],
      },
    ],
  });
  assert.is(withEpilogue(program('y[id.x] += x[id.x];'), ['relu']), undefined);
  assert.is(withEpilogue(program('y[id.x] = x[id.x]; y[id.x] = y[id.x] * 2.0;'), ['relu']), undefined);
  const ok = withEpilogue(program('y[id.x] = x[id.x] * 2.0;'), ['relu']);
  assert.match(ok!.programs[0].code, 'y[id.x] = max(x[id.x] * 2.0, f32(0.0));');
});

test.run();
