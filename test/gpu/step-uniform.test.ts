// The per-step uniform: one compiled step serves every learning rate. Changing the rate between two
// steps changes the update by exactly what the float64 graph says, while the kernel graph, its
// WGSL and the runtime's pipelines stay as they were (nothing re-planned or re-compiled).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { assertClose } from '../helpers/numeric.js';
import { e2e, e2eFeeds, e2eOptimizers, e2eSpec } from '../compiler/e2e-case.js';

const c = e2e();

test('a new learning rate reaches the update through the step uniform, without a re-plan', async () => {
  const rt = await runtime();
  const optimizer = e2eOptimizers(c).adamw;
  const { graph, kernels } = compile(e2eSpec(c, optimizer), { target: rt.target, batch: c.n });
  const planned = JSON.stringify(kernels);
  const ex = await StepExecutor.create(rt, kernels, { initial: e2eFeeds(c) });
  const pipelines = rt.pipelineCount;
  const params = graph.named('param').map((t) => t.name!);
  const persistent = graph.named().filter((t) => t.role === 'param' || t.role === 'state');

  // Two steps at two rates; each is checked against the float64 step from the state the GPU had.
  for (const [k, lr] of [[1, 0], [2, 5e-3]] as const) {
    const state: Record<string, ArrayLike<number>> = { views: e2eFeeds(c).views };
    for (const t of persistent) state[t.name!] = await ex.read(t.name!);
    const scalars = stepScalars(optimizer, k, lr);
    ex.setStep(scalars);
    await ex.step();
    const want = namedOutputs(graph, evaluate(graph, state, scalars));
    for (const name of params) {
      const before = state[name];
      const after = await ex.read(name);
      const moved = after.some((v, i) => v !== before[i]);
      // At rate 0 AdamW moves nothing; at 5e-3 every tensor moves, by what the reference says.
      assert.is(moved, lr > 0, `${name} at lr ${lr}: moved ${moved}`);
      if (lr > 0) assertClose(after.map((v, i) => v - before[i]), want[name].map((v, i) => v - before[i]), 1e-3, `${name}: update at lr ${lr}`);
    }
  }
  assert.is(JSON.stringify(kernels), planned, 'the kernel graph was not re-planned');
  assert.is(rt.pipelineCount, pipelines, 'no pipeline was compiled for the new rate');
  ex.destroy();
});

test('steps create no GPU buffer, bind group or pipeline: everything is made once', async () => {
  const rt = await runtime();
  const optimizer = e2eOptimizers(c).sgd;
  const { kernels } = compile(e2eSpec(c, optimizer), { target: rt.target, batch: c.n });
  const ex = await StepExecutor.create(rt, kernels, { initial: e2eFeeds(c) });
  ex.setStep(stepScalars(optimizer, 1, optimizer.lr));
  await ex.step();
  const device = rt.device as unknown as Record<string, (...args: unknown[]) => unknown>;
  const made: string[] = [];
  const originals = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule'].map((name) => {
    const original = device[name];
    device[name] = (...args: unknown[]) => {
      made.push(name);
      return original.apply(rt.device, args);
    };
    return [name, original] as const;
  });
  try {
    for (let k = 2; k <= 4; k++) {
      ex.setStep(stepScalars(optimizer, k, optimizer.lr / k));
      assert.ok(Number.isFinite(await ex.step()), `step ${k}`);
    }
  } finally {
    for (const [name, original] of originals) device[name] = original;
  }
  assert.equal(made, [], `made during steps 2–4: ${made.join(', ')}`);
  ex.destroy();
});

test.run();
