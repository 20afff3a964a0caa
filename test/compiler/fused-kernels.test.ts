// Epilogue and prologue fusion rewrite another op's WGSL: each rewritten kernel must equal the op's
// float64 reference with relu applied to its output (or relu_backward to an input) on the GPU, and
// kernels that read or accumulate into their output are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withEpilogue } from '../../src/compiler/epilogue.js';
import { withPrologues } from '../../src/compiler/prologue.js';
import { recordPlan } from '../../src/gpu/execute.js';
import { runtime } from '../../src/gpu/runtime.js';
import { getOp, numel, type Attrs, type KernelPlan, type Shape } from '../../src/kernels/index.js';
import { randomInputs } from '../helpers/check-op.js';
import { assertClose } from '../helpers/numeric.js';
import { layer } from '../helpers/spec.js';

const { eps, momentum } = layer({ type: 'batchnorm' });

async function checkRelu(op: string, shapes: Shape[], attrs: Attrs = {}): Promise<void> {
  const rt = await runtime();
  const def = getOp(op);
  const plan = withEpilogue(def.kernel(shapes, attrs, rt.target), ['relu']);
  assert.ok(plan, `${op} takes a relu epilogue`);
  const inputs = randomInputs(shapes, 5);
  const want = def.reference(inputs, shapes, attrs)[0].map((v) => Math.max(v, 0));
  const ins = inputs.map((x) => rt.upload(Float32Array.from(x)));
  const outs = def.shape(shapes, attrs).map((s, k) => (def.inplace?.[k] !== undefined ? ins[def.inplace[k]] : rt.upload(new Float32Array(numel(s)).fill(NaN))));
  await recordPlan(rt, plan!, { inputs: ins, outputs: outs });
  const got = await rt.readF32(outs[0], want.length);
  assert.ok(got.some((v) => v === 0) && got.some((v) => v > 0), `${op}: the relu both clips and passes`);
  assertClose(got, want, 1e-5, `${op}+relu ${JSON.stringify(shapes)}`);
}

test('conv2d+relu equals relu of the conv reference', () => checkRelu('conv2d', [[2, 3, 7, 5], [5, 3, 3, 3], [5]], { stride: 2, padding: 1 }));
test('linear+bias+relu equals relu of the reference (4-vector variant)', () => checkRelu('linear', [[6, 8], [12, 8], [12]]));
test('linear+bias+relu equals relu of the reference (scalar variant, odd sizes)', () => checkRelu('linear', [[5, 7], [3, 7], [3]]));
test('batchnorm apply+relu equals relu of the reference', () => checkRelu('batchnorm', [[4, 3, 3, 2], [3], [3], [3], [3]], { eps, momentum }));

/** The op with relu_backward(mask, input) folded into its loads of `input`, against the references. */
async function checkMasked(op: string, shapes: Shape[], attrs: Attrs, input: number): Promise<void> {
  const rt = await runtime();
  const def = getOp(op);
  const plan = withPrologues(def.kernel(shapes, attrs, rt.target), [{ input, mask: shapes.length }]);
  assert.ok(plan, `${op} takes a masked input ${input}`);
  const inputs = randomInputs([...shapes, shapes[input]], 9);
  const mask = inputs.pop()!;
  const masked = inputs.map((x, k) => (k === input ? getOp('relu_backward').reference([mask, x], [], {})[0] : x));
  const want = def.reference(masked, shapes, attrs);
  const ins = [...inputs, mask].map((x) => rt.upload(Float32Array.from(x)));
  const outs = def.shape(shapes, attrs).map((s) => rt.upload(new Float32Array(numel(s)).fill(NaN)));
  await recordPlan(rt, plan!, { inputs: ins, outputs: outs });
  for (let k = 0; k < want.length; k++) assertClose(await rt.readF32(outs[k], want[k].length), want[k], 1e-5, `${op} output ${k}`);
}

test('relu_backward folded into matmul loads (both operand layouts) equals the references', async () => {
  await checkMasked('matmul', [[6, 8], [8, 5]], {}, 0);
  await checkMasked('matmul', [[6, 8], [6, 5]], { transA: true }, 0);
});
test('relu_backward folded into batchnorm_backward loads equals the reference', () =>
  checkMasked('batchnorm_backward', [[4, 3, 2, 2], [3], [3], [3], [4, 3, 2, 2]], { eps }, 4));

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
