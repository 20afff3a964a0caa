// The printer's layout: canonical `.simclr` and YAML, comments kept where they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSpec, loadSpecText, specComments } from '../../src/spec/index.js';

const fmt = (text: string, file: string, to: 'simclr' | 'yaml') => formatSpec(loadSpecText(text, file).input, to, specComments(text, file));

test('.simclr layout: blocks, inline small blocks, tagged items, bare names', () => {
  const text = 'train{batch_size:64 steps:10}encoder{layers:[conv{out:8},relu]}optimizer:adamw{lr:1e-3}';
  assert.is(fmt(text, 'a.simclr', 'simclr'), 'train {\n  batch_size: 64\n  steps: 10\n}\n\nencoder {\n  layers: [conv { out: 8 }, relu]\n}\n\noptimizer {\n  type: adamw\n  lr: 0.001\n}\n');
});

test('comments above and after fields and items stay with them, in both syntaxes', () => {
  const text = '# top\nencoder {\n  use small_convnet   // by name\n  # wider\n  width: 2\n}\naugment {\n  ops: [\n    flip, # first\n    # then\n    grayscale,\n  ]\n}\n# the end\n';
  assert.is(
    fmt(text, 'a.simclr', 'simclr'),
    '# top\nencoder {\n  use small_convnet // by name\n  # wider\n  width: 2\n}\n\naugment {\n  ops: [\n    flip, # first\n    # then\n    grayscale,\n  ]\n}\n\n# the end\n',
  );
  assert.is(fmt(text, 'a.simclr', 'yaml'), '# top\nencoder:\n  use: small_convnet # by name\n  # wider\n  width: 2\naugment:\n  ops:\n    - { op: flip } # first\n    # then\n    - { op: grayscale }\n\n# the end\n');
});

test('YAML comments, the modeline aside, come back in .simclr', () => {
  const text = '# yaml-language-server: $schema=../grammar/simclr.schema.json\n# run\ntrain:\n  steps: 5 # quick\n';
  assert.is(fmt(text, 'a.yml', 'simclr'), '# run\ntrain {\n  steps: 5 # quick\n}\n');
});

test('strings are quoted where a bare name would change their meaning', () => {
  const out = formatSpec({ name: 'true', data: { source: 'mnist', path: 'a b/"c"' } }, 'simclr');
  assert.is(out, 'name: "true"\n\ndata {\n  source: mnist\n  path: "a b/\\"c\\""\n}\n');
  assert.equal(loadSpecText(out, 'q.simclr').input, { name: 'true', data: { source: 'mnist', path: 'a b/"c"' } });
});

test.run();
