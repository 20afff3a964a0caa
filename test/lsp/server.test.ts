// The language server as an editor meets it: `simclr-compile lsp --stdio` in a child process, spoken
// to in JSON-RPC with Content-Length framing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimclrServer, type LspClient } from '../../src/lsp/client.js';
import { loadSpecText } from '../../src/spec/index.js';
import { diagnosticsFor, loggedFailures, packageRoot } from './fixtures.js';

// Three mistakes: a misspelt enum value, a value out of range, a misspelt key.
const THREE_ERRORS = [
  'name: "three"',
  'data { source: mnst  limit: 512 }',
  'encoder { use small_convnet }',
  'loss { temperature: -0.5 }',
  'optimizer: lars { lr: 0.3  momentun: 0.9 }',
  'train { batch_size: 64  steps: 10 }',
  '',
].join('\n');

/** The LSP range of the `nth` occurrence of `word` in `text`. */
function rangeOf(text: string, word: string, nth = 0) {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(word, at + 1);
  assert.ok(at >= 0, `${word} in the fixture`);
  const before = text.slice(0, at).split('\n');
  const line = before.length - 1;
  const character = before[line].length;
  return { start: { line, character }, end: { line, character: character + word.length } };
}

const byLine = (a: { range: { start: { line: number } } }, b: { range: { start: { line: number } } }) => a.range.start.line - b.range.start.line;

let server: LspClient;
const uri = pathToFileURL(join(packageRoot, 'examples', 'lsp-three-errors.simclr')).href;

test.before(async () => {
  server = startSimclrServer(packageRoot);
  const init = await server.initialize(pathToFileURL(packageRoot).href);
  assert.ok(init.capabilities.completionProvider, 'completion offered');
  assert.is(init.capabilities.hoverProvider, true);
  assert.is(init.capabilities.definitionProvider, true);
  assert.is(init.capabilities.documentFormattingProvider, true);
});

test.after(async () => {
  assert.equal(loggedFailures(server), [], 'no handler threw');
  assert.is(await server.close(), 0, 'clean shutdown');
});

test('didOpen of a spec with three errors publishes the three ranges, with check’s messages', async () => {
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'simclr', version: 1, text: THREE_ERRORS } });
  const { diagnostics } = await diagnosticsFor(server, uri, 1);
  diagnostics.sort(byLine);
  assert.equal(
    diagnostics.map((d) => d.range),
    [rangeOf(THREE_ERRORS, 'mnst'), rangeOf(THREE_ERRORS, '-0.5'), rangeOf(THREE_ERRORS, 'momentun')],
  );
  // The same messages and codes as the front end gives `check`.
  const check = loadSpecText(THREE_ERRORS, join(packageRoot, 'examples', 'lsp-three-errors.simclr')).diagnostics;
  assert.equal(
    diagnostics.map((d) => [d.code, d.message]),
    [...check].sort((a, b) => a.range.start.line - b.range.start.line).map((d) => [d.code, d.message]),
  );
  assert.match(diagnostics[0].message, /mnist/, 'did you mean mnist');
  assert.match(diagnostics[2].message, /momentum/, 'did you mean momentum');
});

test('didChange fixing one error leaves the other two', async () => {
  const fix = rangeOf(THREE_ERRORS, 'mnst');
  server.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: fix, text: 'mnist' }] });
  const { diagnostics } = await diagnosticsFor(server, uri, 2);
  diagnostics.sort(byLine);
  assert.equal(
    diagnostics.map((d) => d.range),
    [rangeOf(THREE_ERRORS, '-0.5'), rangeOf(THREE_ERRORS, 'momentun')],
  );
});

test('a linear layer after a conv without flatten is published as check reports it: E0401 at the layer', async () => {
  const text = 'encoder {\n  layers: [\n    conv { out: 4 },\n    linear { out: 8 },\n  ]\n}\n';
  const doc = pathToFileURL(join(packageRoot, 'examples', 'lsp-shape.simclr')).href;
  server.notify('textDocument/didOpen', { textDocument: { uri: doc, languageId: 'simclr', version: 1, text } });
  const { diagnostics } = await diagnosticsFor(server, doc, 1);
  assert.equal(diagnostics.map((d) => [d.code, d.range.start]), [['E0401', { line: 3, character: 4 }]]);
  assert.match(diagnostics[0].message, /add a flatten layer before it/);
});

test('completion inside optimizer { … } offers the lars, sgd and adamw keys', async () => {
  const text = 'optimizer {\n  \n}\n';
  const doc = pathToFileURL(join(packageRoot, 'examples', 'lsp-completion.simclr')).href;
  server.notify('textDocument/didOpen', { textDocument: { uri: doc, languageId: 'simclr', version: 1, text } });
  const items: { label: string; documentation?: { value: string } }[] = await server.call('textDocument/completion', {
    textDocument: { uri: doc },
    position: { line: 1, character: 2 },
  });
  const labels = items.map((i) => i.label);
  for (const key of ['type', 'lr', 'lr_scaling', 'momentum', 'weight_decay', 'eeta', 'betas', 'eps']) {
    assert.ok(labels.includes(key), `${key} offered (got ${labels.join(', ')})`);
  }
  assert.not.ok(labels.includes('temperature'), 'no keys of other sections');
  const momentum = items.find((i) => i.label === 'momentum')!;
  assert.match(momentum.documentation!.value, /Default: `0.9`/);
  // After `type:` the values are the three optimizers.
  server.notify('textDocument/didChange', {
    textDocument: { uri: doc, version: 2 },
    contentChanges: [{ range: { start: { line: 1, character: 2 }, end: { line: 1, character: 2 } }, text: 'type: ' }],
  });
  const values: { label: string }[] = await server.call('textDocument/completion', { textDocument: { uri: doc }, position: { line: 1, character: 8 } });
  assert.equal(values.map((v) => v.label).sort(), ['adamw', 'lars', 'sgd']);
});

test('hover on temperature shows the schema’s description', async () => {
  const schema = JSON.parse(readFileSync(join(packageRoot, 'grammar', 'simclr.schema.json'), 'utf8'));
  const expected: string = resolveSchema(schema, schema.properties.loss).properties.temperature.description;
  const hover = await server.call('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 10 } });
  assert.ok(hover, 'a hover');
  assert.ok(hover.contents.value.startsWith(expected), hover.contents.value);
  assert.equal(hover.range, rangeOf(THREE_ERRORS, 'temperature'));
});

test('definition on a use / extends target opens the stdlib preset', async () => {
  const text = 'extends simclr_v2\nencoder { use small_convnet }\n';
  const doc = pathToFileURL(join(packageRoot, 'examples', 'lsp-definition.simclr')).href;
  server.notify('textDocument/didOpen', { textDocument: { uri: doc, languageId: 'simclr', version: 1, text } });
  const used = await server.call('textDocument/definition', { textDocument: { uri: doc }, position: { line: 1, character: 16 } });
  assert.ok(used, 'a location for use small_convnet');
  assert.match(used.uri, /\/stdlib\/.*small_convnet\.(simclr|ya?ml)$/);
  assert.ok(readFileSync(new URL(used.uri), 'utf8').length > 0, 'the preset file exists');
  const extended = await server.call('textDocument/definition', { textDocument: { uri: doc }, position: { line: 0, character: 9 } });
  assert.match(extended.uri, /\/stdlib\/.*simclr_v2\.(simclr|ya?ml)$/);
  const none = await server.call('textDocument/definition', { textDocument: { uri: doc }, position: { line: 1, character: 3 } });
  assert.is(none, null, 'no definition on a key');
});

function resolveSchema(root: any, s: any): any {
  return s.$ref ? resolveSchema(root, s.$ref.slice(2).split('/').reduce((n: any, k: string) => n[k], root)) : s;
}

test.run();
