// The language server's fit check: against the adapter limits a run recorded, a spec whose step
// cannot fit gets E0602 at its train.chunk, published for the same version after the front end's
// (clean) diagnostics, and a fix clears it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSimclrServer, type LspClient } from '../../src/lsp/client.js';
import { QUIET_MS } from '../../src/lsp/fit.js';
import { loggedFailures, packageRoot } from './fixtures.js';

const SPEC = ['name: "chunked"', 'train {', '  batch_size: 256', '  chunk: 128', '}', ''].join('\n');
const uri = pathToFileURL(join(packageRoot, 'examples', 'lsp-fit.simclr')).href;
type Published = { uri: string; version: number; diagnostics: { code?: string; message: string; range: { start: { line: number; character: number } } }[] };

let server: LspClient;

test.before(async () => {
  // 32 MiB a binding: the first convolution of 128 images (49 MiB) does not fit, of 32 it does.
  const cache = mkdtempSync(join(tmpdir(), 'simclr-lsp-cache-'));
  mkdirSync(join(cache, 'simclr-compile'));
  const target = { isSoftware: true, hasF16: false, maxWorkgroupInvocations: 256, maxStorageBufferBindingSize: 32 * 2 ** 20, maxWorkgroupsPerDimension: 65535, maxBufferSize: 64 * 2 ** 20 };
  writeFileSync(join(cache, 'simclr-compile', 'adapter-limits.json'), JSON.stringify({ description: 'a small test adapter', target }));
  server = startSimclrServer(packageRoot, { ...process.env, XDG_CACHE_HOME: cache });
  await server.initialize(pathToFileURL(packageRoot).href);
});

test.after(async () => {
  assert.equal(loggedFailures(server), [], 'no handler threw');
  assert.is(await server.close(), 0, 'clean shutdown');
});

const published = (version: number, has: (p: Published) => boolean) =>
  server.waitFor('textDocument/publishDiagnostics', (p: Published) => p.uri === uri && p.version === version && has(p), 30_000) as Promise<Published>;

test('a train.chunk over the recorded adapter is E0602 at the chunk, after the clean front-end diagnostics', async () => {
  const clean = published(1, (p) => p.diagnostics.length === 0);
  const fit = published(1, (p) => p.diagnostics.length > 0);
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'simclr', version: 1, text: SPEC } });
  await clean;
  const { diagnostics } = await fit;
  assert.is(diagnostics.length, 1);
  assert.is(diagnostics[0].code, 'E0602');
  assert.equal(diagnostics[0].range.start, { line: 3, character: 9 });
  assert.match(diagnostics[0].message, /train\.chunk 128 does not fit the device.*The largest train\.chunk that fits is \d+.*a small test adapter/);
});

test('a chunk that fits clears it', async () => {
  const largest = Number(/fits is (\d+)/.exec(server.notifications.map((n) => JSON.stringify(n.params)).join(''))?.[1]);
  assert.ok(largest > 0 && largest < 128);
  server.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: SPEC.replace('chunk: 128', `chunk: ${largest}`) }] });
  await published(2, (p) => p.diagnostics.length === 0);
  // Version 2's fit check runs after a quiet second and finds nothing, so nothing more is published
  // for it; a later version that does not fit shows the worker still answers.
  await new Promise((r) => setTimeout(r, QUIET_MS + 3000));
  server.notify('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: SPEC.replace('chunk: 128', 'chunk: 200') }] });
  await published(3, (p) => p.diagnostics.some((d) => d.code === 'E0602'));
  const v2 = server.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics' && (n.params as Published).uri === uri && (n.params as Published).version === 2);
  assert.ok(v2.every((n) => (n.params as Published).diagnostics.length === 0), JSON.stringify(v2));
});

test.run();
