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
import { assertUpdates, e2e, e2eFeeds, e2eOptimizers, e2eSpec, graphName } from './e2e-case.js';

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

// Compared as updates, each relative to its own scale: float64 agrees to ~1e-13 there, while dropping
// LARS's weight decay (1e-6) moves the updates by 2e-7 (and w_after by only 1.2e-10, under TOL).
for (const kind of ['sgd', 'adamw', 'lars'] as const) {
  test(`float64: parameter updates of one ${kind} step equal PyTorch`, async () => {
    const out = run(kind);
    await assertUpdates(c, c[kind].params_after, (name) => out[name], TOL, kind);
  });
}

// The golden SGD and AdamW decay every parameter; with exclude_bn_and_bias (the schema's default)
// BatchNorm parameters and biases take the same step without decay, which on a first step (zero
// moments) is PyTorch's w_after + lr·wd·w, and the weights take PyTorch's step unchanged.
for (const kind of ['sgd', 'adamw'] as const) {
  test(`float64: ${kind} with exclude_bn_and_bias leaves BatchNorm parameters and biases undecayed`, () => {
    const o = { ...optimizers[kind], exclude_bn_and_bias: true };
    const graph = stepGraph(e2eSpec(c, o), c.n, true);
    const out = namedOutputs(graph, evaluate(graph, e2eFeeds(c), stepScalars(o, 1, o.lr)));
    const kinds = new Map(graph.named().map((t) => [t.name!, t.kind]));
    let spared = 0;
    for (const [torch, after] of Object.entries(c[kind].params_after)) {
      const name = graphName(torch);
      const excluded = kinds.get(name) !== 'weight';
      if (excluded) spared++;
      const w = c.params[torch];
      const want = excluded ? after.map((x, i) => x + o.lr * o.weight_decay * w[i]) : after;
      assertClose(out[name], want, TOL, `${kind} ${name}${excluded ? ' (excluded)' : ''}`);
    }
    assert.ok(spared >= 10, `${spared} BatchNorm parameters and biases`);
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
