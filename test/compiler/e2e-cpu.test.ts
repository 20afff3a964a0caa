// The golden training step through the ops' float64 references: the graph built from the spec, its
// backward pass and each optimizer's update are checked against PyTorch without a GPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stepGraph } from '../../src/compiler/compile.js';
import { fuse } from '../../src/compiler/fuse.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { assertClose } from '../helpers/numeric.js';
import { e2e, e2eFeeds, e2eOptimizers, e2eSpec, graphName } from './e2e-case.js';

const c = e2e();
const TOL = 1e-9;
const optimizers = e2eOptimizers(c);

function run(kind: keyof typeof optimizers, fused = false, checkpoint = false) {
  const spec = e2eSpec(c, optimizers[kind]);
  spec.encoder.checkpoint = checkpoint;
  const graph = stepGraph(spec, c.n, true);
  const scalars = stepScalars(optimizers[kind], 1, optimizers[kind].lr);
  return namedOutputs(graph, evaluate(fused ? fuse(graph, SOFTWARE_TARGET) : graph, e2eFeeds(c), scalars));
}

test('float64: loss, z, every gradient and the BN running statistics equal PyTorch', () => {
  const out = run('sgd');
  assertClose(out.loss, [c.loss], TOL, 'loss');
  assertClose(out.z, c.z, TOL, 'z');
  for (const [name, want] of Object.entries(c.grads)) assertClose(out[`grad:${graphName(name)}`], want, TOL, `∂${name}`);
  for (const [name, want] of Object.entries(c.bn_running_after_forward)) assertClose(out[graphName(name)], want, TOL, name);
});

for (const kind of ['sgd', 'adamw', 'lars'] as const) {
  test(`float64: parameters after one ${kind} step equal PyTorch`, () => {
    const out = run(kind);
    for (const [name, want] of Object.entries(c[kind].params_after)) assertClose(out[graphName(name)], want, TOL, `${kind} ${name}`);
  });
}

test('fusion leaves the function unchanged: the fused graph evaluates to the same step', () => {
  const plain = run('lars');
  const fused = run('lars', true);
  assert.equal(Object.keys(fused).sort(), Object.keys(plain).sort());
  for (const [name, value] of Object.entries(plain)) assertClose(fused[name], value, 1e-12, name);
});

test('gradient checkpointing recomputes the same step and moves the BN running statistics once', () => {
  const plain = run('sgd');
  const recomputed = run('sgd', true, true);
  for (const [name, value] of Object.entries(plain)) assertClose(recomputed[name], value, 1e-12, name);
  for (const [name, want] of Object.entries(c.bn_running_after_forward)) assertClose(recomputed[graphName(name)], want, TOL, name);
});

test.run();
