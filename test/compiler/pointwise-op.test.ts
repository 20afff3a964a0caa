// A pointwise op defined in this file alone, with no line of the compiler changed: from its row's
// declaration it fuses into its producer's stores and into a chain of pointwise ops, and the fused
// kernels equal the float64 references on the GPU and in the CPU evaluation of the fused graph.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fuse } from '../../src/compiler/fuse.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { Graph } from '../../src/ir/graph.js';
import { describe, pointwiseKernel, type Expr } from '../../src/kernels/fused_elementwise.js';
import { defineOp, getOp, numel, pointwiseReference, SOFTWARE_TARGET, type Pointwise, type Shape } from '../../src/kernels/index.js';
import { checkOp, randomInputs, runFused } from '../helpers/check-op.js';
import { assertClose } from '../helpers/numeric.js';

const square: Pointwise = { wgsl: ([x]) => `((${x}) * (${x}))`, f64: ([x]) => x * x };

defineOp({
  name: 'square',
  shape: ([x]) => [x],
  reference: pointwiseReference(square),
  kernel: (shapes) => pointwiseKernel('square', shapes),
  flops: ([x]) => numel(x),
  pointwise: square,
});

/** A graph over inputs in:0… whose one output out:0 is what `build` makes of them. */
function graphOf(shapes: Shape[], build: (g: Graph, ins: ReturnType<Graph['leaf']>[]) => ReturnType<Graph['leaf']>): Graph {
  const g = new Graph();
  const ins = shapes.map((s, k) => g.leaf('input', s, 'test', { name: `in:${k}` }));
  g.outputs.set('out:0', build(g, ins).id);
  return g;
}

/** GPU and float64 evaluations of the fused graph against `want`; returns the fused graph's kernel labels. */
async function checkFused(g: Graph, shapes: Shape[], want: (inputs: Float64Array[]) => Float64Array): Promise<string[]> {
  const inputs = randomInputs(shapes, 11);
  const feeds = Object.fromEntries(inputs.map((x, k) => [`in:${k}`, x]));
  const expected = want(inputs);
  const fused = fuse(g, SOFTWARE_TARGET);
  const cpu = namedOutputs(fused, evaluate(fused, feeds))['out:0'];
  assertClose(cpu, expected, 1e-12, 'float64 evaluation of the fused graph');
  const { labels, outputs } = await runFused(g, feeds);
  assertClose(outputs['out:0'], expected, 1e-5, 'fused kernels on the GPU');
  return labels;
}

test('square alone: its kernel is its declared expression', () => checkOp('square', [[1001]]).then(() => undefined));

test('square fuses into a linear layer as an epilogue (the 4-vector store)', async () => {
  const shapes = [[6, 8], [12, 8], [12]];
  const g = graphOf(shapes, (graph, [x, w, b]) => graph.add('square', [graph.add('linear', [x, w, b], {}, 'fc')[0]], {}, 'sq')[0]);
  const labels = await checkFused(g, shapes, (inputs) => getOp('linear').reference(inputs, shapes, {})[0].map((v) => v * v));
  assert.equal(labels, ['linear+square']);
});

test('square fuses into a chain with add and relu: one fused_elementwise kernel', async () => {
  const shapes = [[3, 7, 5], [3, 7, 5]];
  const g = graphOf(shapes, (graph, [a, b]) => {
    const [s] = graph.add('square', [graph.add('add', [a, b], {}, 'sum')[0]], {}, 'sq');
    return graph.add('relu', [graph.add('add', [s, a], {}, 'sum2')[0]], {}, 'act')[0];
  });
  const fused = fuse(g, SOFTWARE_TARGET);
  assert.equal(fused.nodes.length, 1);
  assert.is(describe(fused.nodes[0].attrs.expr as Expr), 'relu(add(square(add(x0, x1)), x0))');
  const labels = await checkFused(g, shapes, ([a, b]) => a.map((v, i) => Math.max((v + b[i]) ** 2 + v, 0)));
  assert.equal(labels, ['fused_elementwise']);
});

test.run();
