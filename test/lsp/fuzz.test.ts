// A thousand seeded random edits of real specs, sent as an editor sends keystrokes and pastes, with
// completion, hover, definition and formatting requests in between: the server must answer every
// request, publish diagnostics for the final version of each document, and never exit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimclrServer, type RpcMessage } from '../../src/lsp/client.js';
import { ALIAS_BOMB, nestedSimclr } from '../helpers/hostile.js';
import { randoms } from '../helpers/numeric.js';
import { diagnosticsFor, loggedFailures, packageRoot, within } from './fixtures.js';

const EDITS = 1000;
// Fragments a person types or pastes into a spec, broken ones included.
const FRAGMENTS = ['{', '}', '[', ']', ':', ',', '"', '#', '\n', ' ', '  ', '0', '1e-6', '-3', '0.07', 'true',
  'optimizer', 'lars', 'temperature', 'extends', 'use', 'encoder {', 'type: ', '"stdlib/', 'augment', '::', '\t', 'é', '\\'];

function specFiles(): string[] {
  const files: string[] = [];
  for (const dir of ['examples', 'stdlib']) {
    for (const name of readdirSync(join(packageRoot, dir), { recursive: true }).map(String)) {
      if (/\.(simclr|ya?ml)$/.test(name)) files.push(join(dir, name));
    }
  }
  return files.sort();
}

test('1000 random edits: every request answered, diagnostics for every final version, no exit', async () => {
  const pool = randoms(20 * EDITS, 7, 0, 1);
  let drawn = 0;
  const random = () => pool[drawn++];
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
  const server = startSimclrServer(packageRoot);
  try {
    await server.initialize(pathToFileURL(packageRoot).href);
    const docs = specFiles().slice(0, 6).map((file) => ({
      uri: pathToFileURL(join(packageRoot, file)).href,
      lines: readFileSync(join(packageRoot, file), 'utf8').split('\n'),
      version: 1,
      languageId: file.endsWith('.simclr') ? 'simclr' : 'yaml',
    }));
    assert.ok(docs.length >= 2, 'examples/ and stdlib/ hold specs to edit');
    for (const d of docs) {
      server.notify('textDocument/didOpen', { textDocument: { uri: d.uri, languageId: d.languageId, version: 1, text: d.lines.join('\n') } });
    }
    const replies: Promise<RpcMessage>[] = [];
    for (let i = 0; i < EDITS; i++) {
      const d = pick(docs);
      const line = Math.floor(random() * d.lines.length);
      const text = d.lines[line];
      const start = Math.floor(random() * (text.length + 1));
      const end = Math.min(text.length, start + (random() < 0.4 ? Math.floor(random() * 6) : 0));
      const insert = random() < 0.8 ? pick(FRAGMENTS) : '';
      const updated = text.slice(0, start) + insert + text.slice(end);
      d.lines.splice(line, 1, ...updated.split('\n'));
      d.version++;
      server.notify('textDocument/didChange', {
        textDocument: { uri: d.uri, version: d.version },
        contentChanges: [{ range: { start: { line, character: start }, end: { line, character: end } }, text: insert }],
      });
      const at = { textDocument: { uri: d.uri }, position: { line, character: start + insert.length } };
      const roll = random();
      if (roll < 0.15) replies.push(server.request('textDocument/completion', at));
      else if (roll < 0.25) replies.push(server.request('textDocument/hover', at));
      else if (roll < 0.3) replies.push(server.request('textDocument/definition', at));
      else if (roll < 0.33) replies.push(server.request('textDocument/formatting', { textDocument: { uri: d.uri }, options: { tabSize: 2, insertSpaces: true } }));
    }
    const answered = await within(60_000, `${replies.length} requests`, Promise.all(replies));
    assert.ok(replies.length > 200, `${replies.length} requests sent`);
    for (const reply of answered) assert.is(reply.error, undefined, reply.error?.message);
    // The last edit of each document is checked: its diagnostics carry its final version.
    await Promise.all(docs.map((d) => diagnosticsFor(server, d.uri, d.version)));
    assert.is(server.exited, null, 'server still running');
    assert.equal(loggedFailures(server), [], 'no handler threw');
    assert.is(server.stderr, '', 'nothing on stderr');
    assert.is(await server.close(), 0);
  } finally {
    server.kill();
  }
});

// A YAML document is a spec to the server when its name says so (or by the schema modeline).
test('an alias bomb and 3,000 nested blocks: diagnostics within seconds, at the alias and the block', async () => {
  const server = startSimclrServer(packageRoot);
  try {
    await server.initialize(pathToFileURL(packageRoot).href);
    const hostile = [
      { file: 'bomb.simclr.yml', languageId: 'yaml', text: ALIAS_BOMB, code: 'E0007', at: { line: 3, character: 44 } },
      { file: 'deep.simclr', languageId: 'simclr', text: nestedSimclr(3000), code: 'E0008', at: { line: 0, character: 618 } },
    ];
    for (const h of hostile) {
      const uri = pathToFileURL(join(packageRoot, 'examples', h.file)).href;
      server.notify('textDocument/didOpen', { textDocument: { uri, languageId: h.languageId, version: 1, text: h.text } });
      const { diagnostics } = await diagnosticsFor(server, uri, 1, 5000);
      assert.ok(diagnostics.some((d) => d.code === h.code && d.range.start.line === h.at.line && d.range.start.character === h.at.character), JSON.stringify(diagnostics));
    }
    assert.equal(loggedFailures(server), [], 'no handler threw');
    assert.is(await server.close(), 0);
  } finally {
    server.kill();
  }
});

test.run();
