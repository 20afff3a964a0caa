// A whole training step of a convnet with BN→ReLU→maxpool blocks, compiled with every fusion that
// pattern takes (the pool in BN's apply, the relu's mask recomputed in BN's backward, the pool's
// gradient gathered at its loads), against the same step's unfused graph in float64: loss, z, every
// parameter gradient and the BN running statistics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../src/compiler/compile.js';
import { initialWeights, StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { optimizerFor, stepScalars } from '../../src/ir/optimizer.js';
import { formatDiagnostic, loadSpecText } from '../../src/spec/index.js';
import { assertClose, randoms } from '../helpers/numeric.js';

const N = 6;
const SPEC = `name: "pooled"
data { source: synthetic, image_size: 8, channels: 1 }
encoder {
  pool: cat_avg_max
  layers: [
    conv { out: 4, kernel: 3, padding: 1 }, batchnorm, relu, maxpool { kernel: 2, stride: 2, padding: 0 },
    conv { out: 8, kernel: 3, padding: 1 }, batchnorm, relu, maxpool { kernel: 2, stride: 2, padding: 0 },
  ]
}
projector { hidden: 16, out: 8, layers: 2, batchnorm: true }
loss { temperature: 0.5 }
optimizer: sgd { lr: 0.1 }
train { batch_size: ${N} }
`;

test('GPU: a BN→ReLU→maxpool convnet step, fused, equals its unfused graph in float64', async () => {
  const rt = await runtime();
  const loaded = loadSpecText(SPEC, 'pooled.simclr');
  if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
  const spec = { ...loaded.spec, augment: { size: 8 }, optimizer: optimizerFor({ ...loaded.spec.optimizer, lr_scaling: 'none' }, N) };
  const { graph, kernels } = compile(spec, { target: rt.target, batch: N, keepGrads: true });
  const labels = kernels.kernels.map((k) => k.label);
  for (const fused of ['batchnorm+relu+maxpool2d', 'maxpool2d_backward+batchnorm_backward+relu_backward']) {
    assert.ok(labels.filter((l) => l === fused).length === 2, `both blocks run ${fused}: ${labels.join(', ')}`);
  }
  const feeds: Record<string, ArrayLike<number>> = { ...initialWeights(kernels, 3), views: randoms(2 * N * 64, 5) };
  // BatchNorm's γ and β start filled: random ones here, so no channel's mask or scale is trivial.
  for (const t of graph.named()) if (t.role === 'param' && !(t.name! in feeds)) feeds[t.name!] = randoms(t.shape.reduce((a, b) => a * b, 1), t.id, 0.5, 1.5).map((v, i) => (i % 3 ? v : -v));
  const ex = await StepExecutor.create(rt, kernels, { initial: feeds });
  const scalars = stepScalars(spec.optimizer, 1, spec.optimizer.lr);
  ex.setStep(scalars);
  const loss = await ex.step();
  const want = namedOutputs(graph, evaluate(graph, feeds, scalars));
  assertClose([loss], want.loss, 1e-5, 'loss');
  assertClose(await ex.read('z'), want.z, 1e-4, 'z');
  const checked = [...graph.outputs.keys()].filter((name) => name.startsWith('grad:') || name.endsWith('running_mean') || name.endsWith('running_var'));
  assert.ok(checked.length >= 16, `${checked.length} gradients and statistics`);
  for (const name of checked) assertClose(await ex.read(name), want[name], 1e-4, name);
  ex.destroy();
});

test.run();
