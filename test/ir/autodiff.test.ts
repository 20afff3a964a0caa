// Reverse-mode autodiff over whole models: every parameter's gradient from the appended backward
// graph (evaluated in float64) against central finite differences of the forward loss.
import { test } from 'uvu';
import '../../src/kernels/index.js';
import { appendBackward } from '../../src/ir/autodiff.js';
import { buildModel } from '../helpers/model.js';
import { evaluate } from '../../src/ir/evaluate.js';
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { numel } from '../../src/kernels/op.js';
import { assertClose, randoms } from '../helpers/numeric.js';
import { modelSpec } from '../helpers/spec.js';

function checkModel(spec: ModelSpec, batch: number, seed: number): void {
  const model = buildModel(spec, batch);
  const grads = appendBackward(model.graph, model.loss, model.params);
  const feeds: Record<string, Float64Array> = { views: randoms(numel(model.views.shape), seed) };
  model.params.forEach((p, k) => (feeds[p.name!] = randoms(numel(p.shape), seed + 17 * (k + 1), -0.8, 0.8)));
  const values = evaluate(model.graph, feeds);
  const loss = () => evaluate(model.graph, feeds)[model.loss.id][0];
  const eps = 1e-6;
  for (const p of model.params) {
    const x = feeds[p.name!];
    const numeric = x.map((keep, j) => {
      x[j] = keep + eps;
      const up = loss();
      x[j] = keep - eps;
      const down = loss();
      x[j] = keep;
      return (up - down) / (2 * eps);
    });
    assertClose(values[grads.get(p.id)!.id], numeric, 1e-6, `∂loss/∂${p.name}`);
  }
}

test('BN, maxpool, residual of convs with bias, residual with a conv shortcut, flatten and linear: gradients equal finite differences', () => {
  checkModel(
    modelSpec({
      augment: { size: 6 },
      encoder: {
        in_channels: 2,
        pool: 'avg',
        layers: [
          { type: 'conv', out: 3, kernel: 3 },
          { type: 'batchnorm' },
          { type: 'relu' },
          { type: 'maxpool', kernel: 3, stride: 2, padding: 1 },
          { type: 'residual', body: [{ type: 'conv', out: 4, bias: true }, { type: 'relu' }, { type: 'conv', out: 4 }], shortcut: [{ type: 'conv', out: 4, kernel: 1, padding: 0 }], relu: false },
          { type: 'flatten' },
          { type: 'linear', out: 5 },
        ],
      },
      projector: { hidden: 8, out: 4, layers: 2, batchnorm: false },
      loss: { temperature: 0.3 },
    }),
    3,
    11,
  );
});

test('identity residuals, global max pooling and a BN projector: gradients equal finite differences', () => {
  checkModel(
    modelSpec({
      augment: { size: 5 },
      encoder: {
        in_channels: 1,
        pool: 'max',
        layers: [
          { type: 'conv', out: 3, kernel: 3, stride: 2 },
          { type: 'residual', body: [{ type: 'batchnorm' }, { type: 'relu' }, { type: 'conv', out: 3 }] },
          { type: 'residual', body: [{ type: 'conv', out: 3 }], relu: false },
        ],
      },
      projector: { hidden: 6, out: 3, layers: 3, batchnorm: true },
      loss: { temperature: 0.5 },
    }),
    2,
    29,
  );
});

test.run();
