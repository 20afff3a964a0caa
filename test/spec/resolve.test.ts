// Presets, extends, overrides and defaults: what the resolved spec holds, and where its fields
// were written.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSpecFile, loadSpecText, sourceRange } from '../../src/spec/index.js';
import { expectClean, expectError } from './expect.js';

const dir = mkdtempSync(join(tmpdir(), 'simclr-spec-'));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

test('an empty spec is the embedded default: MNIST, small convnet, self_supervised augmentations', () => {
  const spec = expectClean('');
  assert.is(spec.data.source, 'mnist');
  assert.is(spec.encoder.name, 'small_convnet');
  assert.is(spec.augment.views[0].length, 7);
  assert.equal(spec.augment.views[0], spec.augment.views[1]);
  assert.is(spec.loss.temperature, 0.07);
  assert.is(spec.train.epochs, 100);
  assert.is(spec.train.steps, undefined);
});

test('use: a preset block, with the block’s own fields winning whatever their order', () => {
  const spec = expectClean('encoder { pool: avg  use xresnet18  name: "mine" }');
  assert.is(spec.encoder.name, 'mine');
  assert.is(spec.encoder.pool, 'avg');
  assert.is(spec.encoder.layers.length, 18);
});

test('width scales every conv and linear out, and resolves to 1', () => {
  const spec = expectClean('encoder { width: 0.5  layers: [conv { out: 33 }, relu, residual { body: [conv { out: 64 }] }, flatten, linear { out: 10 }] }');
  const outs = JSON.stringify(spec.encoder.layers).match(/"out":\d+/g);
  assert.equal(outs, ['"out":17', '"out":32', '"out":5']);
  assert.is(spec.encoder.width, 1);
  const again = loadSpecText(JSON.stringify(spec), 'again.yml');
  assert.equal(again.spec, spec, 'resolving a resolved spec changes nothing');
});

test('defaults that depend on other fields', () => {
  const spec = expectClean('data { source: image-folder, path: "x", image_size: 64 }\naugment { ops: [color_jitter { strength: 0.5, hue: 0.05 }, blur, normalize] }\nencoder { layers: [conv { out: 4, kernel: 5 }] }');
  const [jitter, blur, normalize] = spec.augment.views[0];
  assert.equal(jitter, { op: 'color_jitter', p: 0.3, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.05 });
  assert.equal(blur, { op: 'blur', p: 0.3, kernel: 7, sigma: [0.1, 2] });
  assert.equal(normalize, { op: 'normalize', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.is(spec.data.channels, 3);
  assert.is(spec.encoder.in_channels, 3);
  assert.is(spec.augment.size, 64);
  assert.is((spec.encoder.layers[0] as { padding: number }).padding, 2);
});

test('jitter from strength: 0.8·s and 0.2·s, without float noise', () => {
  const [jitter] = expectClean('augment { ops: [color_jitter { strength: 0.7 }] }').augment.views[0];
  assert.equal(jitter, { op: 'color_jitter', p: 0.3, brightness: 0.56, contrast: 0.56, saturation: 0.56, hue: 0.14 });
});

test('optimizer defaults follow its type and lr scaling', () => {
  assert.equal(expectClean('optimizer { type: adamw }').optimizer.lr_scaling, 'none');
  assert.is(expectClean('optimizer { type: adamw }').optimizer.lr, 1e-3);
  assert.is(expectClean('optimizer { lr_scaling: sqrt }').optimizer.lr, 0.075);
  assert.is(expectClean('').optimizer.lr, 0.3);
});

test('views: one op list per view', () => {
  const spec = expectClean('augment { views: [[flip], [flip { p: 1 }, grayscale]] }');
  assert.equal(spec.augment.views, [[{ op: 'flip', p: 0.5 }], [{ op: 'flip', p: 1 }, { op: 'grayscale', p: 0.3 }]]);
});

test('extends: a relative base file, fields merged deeply, lists replaced', () => {
  write('base.simclr', 'train { batch_size: 64  steps: 10 }\naugment { ops: [flip, grayscale] }');
  const child = write('child.yml', 'extends: ./base\ntrain: { steps: 20 }\naugment: { ops: [{ op: flip }] }\n');
  const { spec, diagnostics } = loadSpecFile(child);
  assert.equal(diagnostics, []);
  assert.is(spec?.train.batch_size, 64);
  assert.is(spec?.train.steps, 20);
  assert.is(spec?.augment.views[0].length, 1);
});

test('extends cycle: reported where the cycle closes, in the file that closes it', () => {
  const a = write('a.simclr', 'extends "./b"\nname: "a"');
  write('b.simclr', '# b\nextends "./a.simclr"\n');
  const { diagnostics } = loadSpecFile(a);
  assert.is(diagnostics.length, 1);
  const [d] = diagnostics;
  assert.is(d.code, 'E0202');
  assert.ok(d.file.endsWith('b.simclr'), d.file);
  assert.equal(d.range.start, { line: 2, column: 9 });
  assert.match(d.message, /reference cycle: .*a\.simclr → .*b\.simclr → .*a\.simclr/);
});

test('self-extension is a cycle too', () => {
  const self = write('self.simclr', 'extends "./self"');
  assert.is(loadSpecFile(self).diagnostics[0]?.code, 'E0202');
});

test('errors inside a referenced file point into that file', () => {
  write('broken.simclr', 'train {\n  batch_sise: 4\n}');
  const { diagnostics } = loadSpecText('extends "./broken"', join(dir, 'user.simclr'));
  assert.is(diagnostics.length, 1);
  assert.ok(diagnostics[0].file.endsWith('broken.simclr'));
  assert.equal([diagnostics[0].code, diagnostics[0].range.start.line, diagnostics[0].range.start.column], ['E0102', 2, 3]);
});

test('--set overrides fields, lists by index, and is validated like the file', () => {
  const spec = expectClean('encoder { use small_convnet }', 'spec.simclr', { set: ['train.batch_size=64', 'encoder.layers.0.out=8', 'optimizer=adamw { lr: 1e-4 }', 'data.source=synthetic'] });
  assert.is(spec.train.batch_size, 64);
  assert.is((spec.encoder.layers[0] as { out: number }).out, 8);
  assert.equal([spec.optimizer.type, spec.optimizer.lr], ['adamw', 1e-4]);
  assert.is(spec.data.source, 'synthetic');
  const own = loadSpecText('train { steps: 3 }', 'spec.simclr', { set: ['train.steps=5'] }).input;
  assert.equal(own, { train: { steps: 5 } }, 'the file’s own spec, as fmt prints it, carries the override');
  const d = expectError('', 'E0104', 1, 18, 'train.batch_size must be >= 2', 'spec.simclr', { set: ['train.batch_size=1'] });
  assert.is(d.file, '--set train.batch_size=1');
  expectError('', 'E0204', 1, 1, 'key.path=value', 'spec.simclr', { set: ['nonsense'] });
  expectError('', 'E0204', 1, 1, 'out of range', 'spec.simclr', { set: ['encoder.layers.99.out=3'] });
});

test('sourceRange: written fields, defaults (nearest block), and shared op lists', () => {
  const text = 'encoder {\n  layers: [\n    conv { out: 8 },\n    relu,\n  ]\n}\naugment { ops: [flip { p: 1 }] }';
  const { sources } = loadSpecText(text, 'spec.simclr');
  const at = (path: (string | number)[]) => {
    const r = sourceRange(sources, path).range;
    return [r.start.line, r.start.column];
  };
  assert.equal(at(['encoder', 'layers', 0, 'out']), [3, 17]);
  assert.equal(at(['encoder', 'layers', 1]), [4, 5]);
  assert.equal(at(['encoder', 'layers', 0, 'kernel']), [3, 5], 'a default points at its block');
  assert.equal(at(['augment', 'views', 1, 0, 'p']), [7, 27]);
});

test('the LSP path: half-typed text never throws', () => {
  for (const text of ['encoder { layers: [conv {', 'data: {', 'extends', 'encoder { use ', '[[[', '}}}']) {
    const { diagnostics } = loadSpecText(text, 'spec.simclr');
    assert.ok(diagnostics.length > 0 && diagnostics.every((d) => d.code !== 'E0000'), text);
  }
});

test.run();
