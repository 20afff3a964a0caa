// Buffer planning: the golden step replayed on the CPU with every tensor living in its planned
// buffer (and every kernel's scratch poisoned after use) must still give PyTorch's numbers, and
// the plan must need less memory than one buffer per tensor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../src/compiler/compile.js';
import type { KernelGraph } from '../../src/compiler/kernel-graph.js';
import type { Graph } from '../../src/ir/graph.js';
import { runNode } from '../../src/ir/evaluate.js';
import { numel, SOFTWARE_TARGET, type StepScalars } from '../../src/kernels/op.js';
import { assertClose } from '../helpers/numeric.js';
import { e2e, e2eFeeds, e2eOptimizers, e2eSpec, graphName } from './e2e-case.js';
import { optimizerFor, stepScalars } from '../../src/ir/optimizer.js';
import { loadSpecText } from '../../src/spec/index.js';

/** Runs the lowered graph through the references, reading and writing only the planned buffers. */
function replay(g: Graph, kg: KernelGraph, feeds: Record<string, number[]>, step: StepScalars): Record<string, Float64Array> {
  const memory = kg.buffers.map((b) => new Float64Array(b.bytes / 4).fill(b.fill ?? NaN));
  for (const b of kg.buffers) if (b.name && feeds[b.name]) memory[b.id].set(feeds[b.name]);
  const read = (t: number) => memory[kg.tensorBuffer[t]].slice(0, numel(g.tensor(t).shape));
  g.nodes.forEach((n, k) => {
    const results = runNode(g, n, n.inputs.map(read), step);
    n.outputs.forEach((o, j) => memory[kg.tensorBuffer[o]].set(results[j]));
    const own = new Set([...n.inputs, ...n.outputs].map((t) => kg.tensorBuffer[t]));
    for (const d of kg.kernels[k].dispatches) for (const b of d.buffers) if (!own.has(b)) memory[b].fill(NaN);
  });
  const out: Record<string, Float64Array> = {};
  for (const [name, { buffer, shape }] of Object.entries(kg.outputs)) out[name] = memory[buffer].slice(0, numel(shape));
  return out;
}

for (const checkpoint of [false, true]) {
test(`the planned buffers hold every tensor long enough: the replayed step equals PyTorch${checkpoint ? ' (checkpointed)' : ''}`, () => {
  const c = e2e();
  const spec = e2eSpec(c, e2eOptimizers(c).sgd);
  spec.encoder.checkpoint = checkpoint;
  const { lowered, kernels } = compile(spec, { target: SOFTWARE_TARGET, batch: c.n, keepGrads: true });
  const out = replay(lowered, kernels, e2eFeeds(c), stepScalars(spec.optimizer, 1, c.sgd.lr));
  assertClose(out.loss, [c.loss], 1e-9, 'loss');
  for (const [name, want] of Object.entries(c.grads)) assertClose(out[`grad:${graphName(name)}`], want, 1e-9, `∂${name}`);
  for (const [name, want] of Object.entries(c.sgd.params_after)) assertClose(out[graphName(name)], want, 1e-9, name);
  const temps = kernels.buffers.filter((b) => b.kind === 'temp');
  assert.ok(temps.some((b) => b.tensors.length > 1), 'some buffer is reused');
  assert.ok(kernels.memory.plannedBytes < kernels.memory.naiveBytes, `planned ${kernels.memory.plannedBytes} < naive ${kernels.memory.naiveBytes}`);
});
}

// Recomputing a segment costs its kernels' scratch again, so checkpointing pays on deep encoders, not
// on the three-conv golden one: the stdlib xresnet18 at half width with the v2 head.
test('checkpointing lowers the planned peak of a deep encoder', () => {
  const loaded = loadSpecText('encoder {\n  use xresnet18\n  width: 0.5\n}\nprojector { use simclr_v2 }\n', 'deep.simclr');
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  const planned = (checkpoint: boolean) => {
    const spec = { ...loaded.spec!, encoder: { ...loaded.spec!.encoder, checkpoint }, optimizer: optimizerFor(loaded.spec!.optimizer, 64) };
    return compile(spec, { target: SOFTWARE_TARGET, batch: 64 }).kernels.memory.plannedBytes;
  };
  const [without, withCheckpoints] = [planned(false), planned(true)];
  assert.ok(withCheckpoints < 0.95 * without, `${withCheckpoints} < 0.95 × ${without}`);
});

test('fusion cuts kernels: relu folds into its producer and residual add → relu is one kernel', () => {
  const c = e2e();
  const spec = e2eSpec(c, { type: 'lars', lr: 0.3 });
  const fused = compile(spec, { target: SOFTWARE_TARGET, batch: c.n });
  const plain = compile(spec, { target: SOFTWARE_TARGET, batch: c.n, fuse: false });
  const ops = fused.kernels.kernels.map((k) => k.label);
  assert.ok(ops.includes('batchnorm+relu'), ops.join(' '));
  assert.ok(!ops.includes('relu'), 'no relu kernel is left');
  assert.ok(fused.kernels.kernels.length < plain.kernels.kernels.length);
  assert.ok(fused.kernels.memory.plannedBytes <= plain.kernels.memory.plannedBytes);
});

test.run();
