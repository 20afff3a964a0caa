// The server's features beyond the basics: spec YAML (diagnostics, completion and hover in block
// and flow style, definition), context-aware completion in tagged blocks and lists, and formatting.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimclrServer, type LspClient } from '../../src/lsp/client.js';
import { formatSpec, loadSpecText } from '../../src/spec/index.js';
import { diagnosticsFor, loggedFailures, packageRoot } from './fixtures.js';

let server: LspClient;
let opened = 0;

/** Opens `text` as a new document named `name` under examples/ and returns its URI. */
function open(name: string, text: string, languageId = name.endsWith('.simclr') ? 'simclr' : 'yaml'): string {
  const uri = pathToFileURL(join(packageRoot, 'examples', `lsp-${opened++}-${name}`)).href;
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  return uri;
}

/** Completion labels at the `|` in `text` (the bar is removed before opening). */
async function labelsAt(name: string, marked: string): Promise<string[]> {
  const at = marked.indexOf('|');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const before = text.slice(0, at).split('\n');
  const uri = open(name, text);
  const items: { label: string }[] = await server.call('textDocument/completion', {
    textDocument: { uri },
    position: { line: before.length - 1, character: before[before.length - 1].length },
  });
  return items.map((i) => i.label);
}

function includesAll(labels: string[], wanted: string[]): void {
  for (const w of wanted) assert.ok(labels.includes(w), `${w} offered (got ${labels.join(', ')})`);
}

test.before(async () => {
  server = startSimclrServer(packageRoot);
  await server.initialize(pathToFileURL(packageRoot).href);
});

test.after(async () => {
  assert.equal(loggedFailures(server), [], 'no handler threw');
  assert.is(await server.close(), 0);
});

test('spec YAML gets check’s diagnostics at the YAML positions', async () => {
  const text = ['name: yaml-errors', 'data: { source: mnist }', 'loss: { temperature: -1 }', 'optimizer:', '  type: lars', '  momentun: 0.9', ''].join('\n');
  const uri = open('errors.simclr.yml', text);
  const { diagnostics } = await diagnosticsFor(server, uri, 1);
  const check = loadSpecText(text, join(packageRoot, 'examples', 'x.yml')).diagnostics;
  assert.equal(
    diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.character, d.code, d.message]),
    check.map((d) => [d.range.start.line - 1, d.range.start.column - 1, d.range.end.column - 1, d.code, d.message]),
  );
  assert.equal(diagnostics.map((d) => [d.range.start.line, d.range.start.character]), [[2, 21], [5, 2]], '-1 and momentun');
});

test('a .yml file is a spec only with the schema modeline', async () => {
  const broken = 'loss: { temperature: -1 }\n';
  const plain = open('other.yml', broken);
  assert.equal((await diagnosticsFor(server, plain, 1)).diagnostics, [], 'other YAML is left alone');
  const marked = open('marked.yml', '# yaml-language-server: $schema=../grammar/simclr.schema.json\n' + broken);
  const { diagnostics } = await diagnosticsFor(server, marked, 1);
  assert.equal(diagnostics.map((d) => [d.code, d.range.start.line]), [['E0104', 1]]);
});

test('YAML completion: block keys, enum values, flow-style keys', async () => {
  includesAll(await labelsAt('a.simclr.yml', 'optimizer:\n  |\n'), ['type', 'lr', 'momentum', 'eeta', 'betas']);
  assert.equal((await labelsAt('b.simclr.yml', 'optimizer:\n  type: |\n')).sort(), ['adamw', 'lars', 'sgd']);
  includesAll(await labelsAt('c.simclr.yml', 'loss: { |}\n'), ['temperature', 'global_negatives']);
  includesAll(await labelsAt('d.simclr.yml', 'data: { source: | }\n'), ['mnist', 'fashion-mnist', 'image-folder']);
  // A list item's own `op:` picks its keys; keys already there are not offered again.
  const blur = await labelsAt('m.simclr.yml', 'augment:\n  ops:\n    - op: flip\n    - op: blur\n      |\n      p: 0.3\n    - op: rotate\n');
  assert.equal(blur.sort(), ['kernel', 'sigma']);
});

test('YAML hover and definition', async () => {
  const uri = open('e.simclr.yml', 'encoder: { use: small_convnet }\nloss: { temperature: 0.2 }\n');
  const hover = await server.call('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 12 } });
  assert.match(hover.contents.value, /temperature/i);
  assert.match(hover.contents.value, /Default: `0.07`/);
  const target = await server.call('textDocument/definition', { textDocument: { uri }, position: { line: 0, character: 20 } });
  assert.match(target.uri, /\/stdlib\/encoders\/small_convnet\.simclr$/);
});

test('.simclr completion follows tags and lists', async () => {
  const conv = await labelsAt('f.simclr', 'encoder { layers: [ relu, conv { | } ] }');
  includesAll(conv, ['out', 'kernel', 'stride', 'padding', 'bias']);
  assert.not.ok(conv.includes('eps'), 'batchnorm keys are not conv keys');
  includesAll(await labelsAt('g.simclr', 'augment { ops: [ flip, | ] }'), ['random_resized_crop', 'rotate', 'color_jitter', 'normalize']);
  const blur = await labelsAt('h.simclr', 'augment { ops: [ blur { | } ] }');
  includesAll(blur, ['p', 'kernel', 'sigma']);
  assert.not.ok(blur.includes('degrees'), 'rotate keys are not blur keys');
  includesAll(await labelsAt('i.simclr', 'optimizer: |'), ['lars', 'sgd', 'adamw']);
  includesAll(await labelsAt('j.simclr', 'extends |'), ['simclr_v2', 'xresnet18', 'self_supervised']);
  includesAll(await labelsAt('k.simclr', 'encoder { pool: | }'), ['avg', 'max', 'cat_avg_max']);
  const rest = await labelsAt('n.simclr', 'optimizer: sgd { lr: 0.1\n  |\n  momentum: 0.9 }');
  includesAll(rest, ['weight_decay', 'lr_scaling']);
  assert.not.ok(rest.includes('lr') || rest.includes('momentum') || rest.includes('type'), `keys already written are not offered (${rest.join(', ')})`);
  const top = await labelsAt('l.simclr', 'name: "x"\n|');
  includesAll(top, ['data', 'encoder', 'projector', 'augment', 'loss', 'optimizer', 'schedule', 'train', 'eval', 'extends']);
});

test('a problem in an extended file, as typed in its unsaved buffer, shows on the extends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'simclr-lsp-'));
  try {
    writeFileSync(join(dir, 'base.simclr'), 'loss { temperature: 0.2 }\n');
    const base = pathToFileURL(join(dir, 'base.simclr')).href;
    const child = pathToFileURL(join(dir, 'child.simclr')).href;
    // The base on disk is fine; its buffer in the editor is not.
    server.notify('textDocument/didOpen', { textDocument: { uri: base, languageId: 'simclr', version: 1, text: 'loss { temperature: -1 }\n' } });
    server.notify('textDocument/didOpen', { textDocument: { uri: child, languageId: 'simclr', version: 1, text: 'extends "./base.simclr"\nname: "child"\n' } });
    const { diagnostics } = await diagnosticsFor(server, child, 1);
    assert.is(diagnostics.length, 1);
    const [d] = diagnostics as any[];
    assert.equal(d.range, { start: { line: 0, character: 8 }, end: { line: 0, character: 23 } }, 'the reference');
    assert.is(d.code, 'E0104');
    assert.match(d.message, /base\.simclr:1:21: loss\.temperature must be > 0/);
    assert.is(d.relatedInformation[0].location.uri, base);
    assert.equal(d.relatedInformation[0].location.range.start, { line: 0, character: 20 });
    // Fixing the base's buffer clears the problem in the spec that extends it.
    const cleared = server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === child && p.diagnostics.length === 0);
    server.notify('textDocument/didChange', {
      textDocument: { uri: base, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 20 }, end: { line: 0, character: 22 } }, text: '0.5' }],
    });
    await cleared;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatting is fmt’s output, and never drops a comment or touches a broken file', async () => {
  const text = 'name: "f"\nloss{temperature:0.2}  optimizer: sgd{lr:0.1}\n';
  const uri = open('fmt.simclr', text);
  const edits: { newText: string }[] = await server.call('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  const loaded = loadSpecText(text, join(packageRoot, 'examples', 'fmt.simclr'));
  assert.is(edits.length, 1);
  assert.is(edits[0].newText, formatSpec(loaded.input, 'simclr'));
  assert.ok(edits[0].newText.split('\n').length > 3, 'spread over lines');

  const commented = '# keep me\nname: "f"\nloss{temperature:0.2}\n';
  const kept: { newText: string }[] = await server.call('textDocument/formatting', { textDocument: { uri: open('fmt2.simclr', commented) }, options: {} });
  assert.ok(kept.every((e) => e.newText.includes('# keep me')), 'the comment survives formatting');

  // YAML keeps its modeline, as `fmt` writes YAML.
  const yamlText = '# yaml-language-server: $schema=../grammar/simclr.schema.json\nloss: {temperature: 0.2}\n';
  const yamlEdits: { newText: string }[] = await server.call('textDocument/formatting', { textDocument: { uri: open('fmt.simclr.yml', yamlText) }, options: {} });
  const yamlInput = loadSpecText(yamlText, join(packageRoot, 'examples', 'x.yml')).input;
  assert.equal(yamlEdits.map((e) => e.newText), ['# yaml-language-server: $schema=../grammar/simclr.schema.json\n' + formatSpec(yamlInput, 'yaml')]);

  const broken: unknown[] = await server.call('textDocument/formatting', { textDocument: { uri: open('fmt3.simclr', 'loss { temperature: }\n') }, options: {} });
  assert.equal(broken, []);
});

test.run();
