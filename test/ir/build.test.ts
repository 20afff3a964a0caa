// The model builder: parameter names and shapes from the spec, and shape errors that name the
// spec path of the offending layer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../src/kernels/index.js';
import { buildModel } from '../helpers/model.js';
import { ShapeError } from '../../src/ir/graph.js';
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { e2e, e2eSpec, graphName } from '../compiler/e2e-case.js';
import { modelSpec, type LayerInput } from '../helpers/spec.js';

const spec = (layers: LayerInput[], size = 8): ModelSpec =>
  modelSpec({
    augment: { size },
    encoder: { in_channels: 1, pool: 'avg', layers },
    projector: { hidden: 8, out: 4, layers: 2, batchnorm: true },
    loss: { temperature: 0.5 },
  });

function shapeError(s: ModelSpec): ShapeError {
  try {
    buildModel(s, 2);
  } catch (err) {
    if (err instanceof ShapeError) return err;
    throw err;
  }
  throw new Error('no shape error');
}

test('every golden state_dict tensor has a graph tensor of the same size', () => {
  const c = e2e();
  const { graph } = buildModel(e2eSpec(c, { type: 'sgd', lr: 0.1 }), c.n);
  for (const [name, value] of Object.entries(c.params)) {
    if (name.endsWith('num_batches_tracked')) continue;
    const t = graph.byName(graphName(name));
    assert.is(t.shape.reduce((a, b) => a * b, 1), value.length, name);
  }
  assert.equal(graph.byName('views').shape, [2 * c.n, c.channels, c.size, c.size]);
});

test('a linear layer on a 4-D input is an error at its spec path', () => {
  const err = shapeError(spec([{ type: 'conv', out: 4 }, { type: 'linear', out: 8 }]));
  assert.is(err.path, 'encoder.layers.1');
  assert.match(err.message, /flatten/);
});

test("a conv whose kernel exceeds its input is reported by conv2d's shape rule at its spec path", () => {
  const err = shapeError(spec([{ type: 'conv', out: 4, kernel: 3, stride: 2 }, { type: 'conv', out: 4, kernel: 9, padding: 0 }]));
  assert.is(err.path, 'encoder.layers.1');
  assert.is(err.op, 'conv2d');
  assert.match(err.message, /\[4,4,4,4\]/);
});

test('a residual whose body changes the shape without a shortcut is an error at the residual', () => {
  const err = shapeError(spec([{ type: 'conv', out: 4 }, { type: 'residual', body: [{ type: 'conv', out: 4, stride: 2 }] }]));
  assert.is(err.path, 'encoder.layers.1');
  assert.match(err.message, /shortcut/);
});

test('a layer inside a residual body reports its nested path', () => {
  const err = shapeError(spec([{ type: 'conv', out: 4 }, { type: 'residual', body: [{ type: 'relu' }, { type: 'linear', out: 3 }] }]));
  assert.is(err.path, 'encoder.layers.1.body.1');
});

test.run();
