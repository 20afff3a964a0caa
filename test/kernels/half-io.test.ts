// Every kernel the f16 precision pass feeds halves (src/kernels/half-io.ts rewrites its loads and
// stores) against its float64 reference on the same f16-rounded inputs, with its f16 outputs rounded
// as the store rounds them. Shapes are odd (not multiples of the vec4 width). Tolerances: an f16
// output may differ from the rounded reference by one rounding flip, 2^-10 of the element (≤ 9.8e-4
// of the largest), since the kernel's f32 arithmetic lands on the other side of a rounding boundary
// here and there: 2e-3 is two such flips. f32 outputs computed from the same rounded inputs (BatchNorm
// statistics, weight gradients) only differ by f32 arithmetic over f16-exact inputs: 1e-4.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runtime } from '../../src/gpu/runtime.js';
import { roundHalf } from '../../src/kernels/cast.js';
import { getOp, numel, type Attrs, type Shape } from '../../src/kernels/index.js';
import { Graph } from '../../src/ir/graph.js';
import { lower } from '../../src/compiler/lower.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { randomInputs } from '../helpers/check-op.js';
import { relError } from '../helpers/numeric.js';

const HALF_TOL = 2e-3;
const F32_TOL = 1e-4;

/** `op` with inputs `halfIn` and outputs `halfOut` stored as f16, through casts at the graph's edges. */
async function halves(op: string, shapes: Shape[], attrs: Attrs, halfIn: number[], halfOut: number[], given: (Float64Array | undefined)[] = []): Promise<void> {
  const rt = await runtime();
  assert.ok(rt.target.hasF16, 'the adapter lacks shader-f16: these f16 variants cannot be checked (lavapipe 25 has it)');
  const inputs = randomInputs(shapes, 3, given).map((x, k) => (halfIn.includes(k) ? x.map(roundHalf) : x));
  const g = new Graph();
  const leaves = shapes.map((s, k) => g.leaf('input', s, op, { name: `in:${k}` }));
  const args = leaves.map((t, k) => (halfIn.includes(k) ? g.add('cast', [t], { to: 'f16' }, op)[0] : t));
  const outs = g.add(op, args, attrs, op);
  outs.forEach((t, k) => {
    if (halfOut.includes(k)) t.dtype = 'f16';
    g.outputs.set(`out:${k}`, (halfOut.includes(k) ? g.add('cast', [t], { to: 'f32' }, op)[0] : t).id);
  });
  const initial: Record<string, Float32Array> = {};
  inputs.forEach((x, k) => (initial[`in:${k}`] = Float32Array.from(x)));
  // Outputs share temp buffers with the casts before them (so they cannot be pre-filled): each is
  // written whole, by a cast or by the op itself.
  const ex = await StepExecutor.create(rt, lower(g, rt.target), { initial });
  ex.record();
  const outputs: Record<string, Float32Array> = {};
  for (const name of g.outputs.keys()) outputs[name] = await ex.read(name);
  ex.destroy();
  const want = getOp(op).reference(inputs, shapes, attrs);
  want.forEach((w, k) => {
    const half = halfOut.includes(k);
    const err = relError(outputs[`out:${k}`], half ? w.map(roundHalf) : w);
    assert.ok(err <= (half ? HALF_TOL : F32_TOL), `${op} ${JSON.stringify(shapes)} output ${k} (${half ? 'f16' : 'f32'}): ${err.toExponential(2)}`);
  });
}

const positive = (n: number) => Float64Array.from({ length: n }, (_, i) => 0.5 + ((i * 7) % 5) / 5);
const bn = { eps: 1e-5, momentum: 0.1 };

test('conv2d and its gradients: f16 activations, f32 weights and weight gradients', async () => {
  await halves('conv2d', [[3, 5, 7, 7], [6, 5, 3, 3], [6]], { stride: 2, padding: 1 }, [0], [0]);
  await halves('conv2d', [[2, 3, 9, 7], [5, 3, 3, 3]], { padding: 1 }, [0], [0]);
  await halves('conv2d_grad_input', [[3, 6, 4, 4], [6, 5, 3, 3]], { stride: 2, padding: 1, input_size: [7, 7] }, [0], [0]);
  await halves('conv2d_grad_weight', [[3, 5, 7, 7], [3, 6, 4, 4]], { stride: 2, padding: 1, kernel_size: [3, 3] }, [0, 1], []);
  // Stride 1 along x: the row-walking weight gradient (and above, the row-window forward for 3 channels).
  await halves('conv2d_grad_weight', [[2, 5, 7, 6], [2, 6, 7, 6]], { padding: 1, kernel_size: [3, 3] }, [0, 1], []);
});

test('batchnorm forward and backward: f16 x, y and ∂x; f32 statistics and parameter gradients', async () => {
  const shape = [3, 5, 7, 7];
  await halves('batchnorm', [shape, [5], [5], [5], [5]], bn, [0], [0], [undefined, undefined, undefined, undefined, positive(5)]);
  await halves('batchnorm_backward', [shape, [5], [5], [5], shape], bn, [0, 4], [0], [undefined, undefined, undefined, positive(5)]);
  await halves('batchnorm_backward', [[7, 6], [6], [6], [6], [7, 6]], bn, [0, 4], [0], [undefined, undefined, undefined, positive(6)]);
});

test('matmul, linear, pooling, relu and add with f16 activations', async () => {
  await halves('matmul', [[37, 53], [53, 29]], {}, [0, 1], [0]);
  await halves('matmul', [[37, 21], [29, 21]], { transB: true }, [0, 1], [0]);
  await halves('linear', [[37, 53], [29, 53], [29]], {}, [0], [0]);
  await halves('maxpool2d', [[2, 3, 9, 7]], { kernel: 2, stride: 2, padding: 0 }, [0], [0]);
  // The backward reads the window positions the forward chose (f32 indices) and an f16 gradient.
  const pool = { kernel: 2, stride: 2, padding: 0 };
  const pooled = getOp('maxpool2d').shape([[2, 3, 9, 7]], pool)[0];
  const [, arg] = getOp('maxpool2d').reference(randomInputs([[2, 3, 9, 7]], 5), [[2, 3, 9, 7]], pool);
  await halves('maxpool2d_backward', [pooled, pooled], { ...pool, input_size: [9, 7] }, [1], [0], [arg]);
  await halves('cat_avg_max', [[3, 5, 7, 7]], {}, [0], [0]);
  await halves('relu', [[3, 7, 5]], {}, [0], [0]);
  await halves('relu_backward', [[3, 7, 5], [3, 7, 5]], {}, [0, 1], [0]);
  await halves('add', [[3, 7, 5], [3, 7, 5]], {}, [0, 1], [0]);
  assert.ok(numel([3, 7, 5]) % 4 !== 0, 'odd sizes');
});

test.run();
