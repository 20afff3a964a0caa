// The schema is the one list of defaults: a spec that gives none must reach the graph with exactly
// the schema's values, read here from grammar/simclr.schema.json itself, not through the resolver.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../../src/kernels/index.js';
import { formatDiagnostic, loadSpecText } from '../../src/spec/index.js';
import { packageRoot } from '../../src/spec/references.js';
import { buildModel } from '../helpers/model.js';

type S = Record<string, any>;
const schema: S = JSON.parse(readFileSync(join(packageRoot, 'grammar/simclr.schema.json'), 'utf8'));
const field = (block: string, key: string) => schema.properties[block].properties[key].default;
const layerField = (type: string, key: string) => schema.definitions.layer.oneOf.find((b: S) => b.properties.type.const === type).properties[key].default;

const text = 'encoder { layers: [conv { out: 4 }, batchnorm, relu, maxpool, flatten, linear { out: 3 }] }\ntrain { batch_size: 2 }\n';
const loaded = loadSpecText(text, 'defaults.simclr');
if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
const { graph } = buildModel(loaded.spec, 2);
const nodeAt = (path: string, op: string) => {
  const node = graph.nodes.find((n) => n.path === path && n.op === op);
  if (!node) throw new Error(`no ${op} at ${path}`);
  return node;
};

test("a conv's kernel, stride, padding (kernel // 2) and bias are the schema's", () => {
  const k = layerField('conv', 'kernel');
  assert.equal(nodeAt('encoder.layers.0', 'conv2d').attrs, { stride: layerField('conv', 'stride'), padding: Math.floor(k / 2) });
  assert.equal(graph.byName('encoder.layers.0.weight').shape.slice(2), [k, k]);
  assert.is(graph.tensors.some((t) => t.name === 'encoder.layers.0.bias'), layerField('conv', 'bias'));
});

test("a batchnorm's eps and momentum, and a maxpool's window, are the schema's", () => {
  assert.equal(nodeAt('encoder.layers.1', 'batchnorm').attrs, { eps: layerField('batchnorm', 'eps'), momentum: layerField('batchnorm', 'momentum') });
  const pool = (key: string) => layerField('maxpool', key);
  assert.equal(nodeAt('encoder.layers.3', 'maxpool2d').attrs, { kernel: pool('kernel'), stride: pool('stride'), padding: pool('padding') });
});

test("a linear layer's bias, the projector's shape and the temperature are the schema's", () => {
  assert.is(graph.tensors.some((t) => t.name === 'encoder.layers.5.bias'), layerField('linear', 'bias'));
  const linears = graph.nodes.filter((n) => n.op === 'linear' && n.path.startsWith('projector'));
  assert.is(linears.length, field('projector', 'layers'));
  assert.equal(graph.byName('projector.0.weight').shape[0], field('projector', 'hidden'));
  assert.is(graph.nodes.some((n) => n.path === 'projector.batchnorm'), field('projector', 'batchnorm'));
  assert.is(graph.tensors.find((t) => t.name === 'views')!.shape[2], field('data', 'image_size'));
  assert.ok(graph.nodes.some((n) => n.attrs.temperature === field('loss', 'temperature')), 'the loss reads the default temperature');
});

test.run();
