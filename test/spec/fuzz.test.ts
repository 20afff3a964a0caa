// 1,200 seeded random mutations of the examples and presets, fed to the loader as the language
// server would on every keystroke: none may throw or hang, and each either resolves cleanly or
// reports errors whose positions lie inside the text they name — and a clean one round trips
// through fmt.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDiagnostic, formatSpec, loadSpecText, specComments, type Diagnostic } from '../../src/spec/index.js';
import { ALIAS_BOMB, nestedSimclr, nestedYaml, nestedYamlFlow } from '../helpers/hostile.js';
import { expectClean, expectError, packageRoot } from './expect.js';

const sources = ['examples', 'stdlib'].flatMap((dir) =>
  readdirSync(join(packageRoot, dir), { recursive: true })
    .map(String)
    .filter((f) => /\.(simclr|ya?ml)$/.test(f))
    .map((f) => ({ file: join(packageRoot, dir, f), text: readFileSync(join(packageRoot, dir, f), 'utf8') })),
);

const SNIPPETS = ['{', '}', '[', ']', ':', ',', '"', '#', '//', '-', '1e-6', '-0', '.5', '1e999', 'true', 'false', 'use', 'extends', 'use xresnet18', 'extends "stdlib/heads/simclr_v2"', 'extends "./fashion-mnist"', 'conv { out: 3 }', 'relu', 'residual { body: [] }', '\n', '  ', '\t', 'é', '\\', '- ', '? ', '&a', '*a', '!!str', 'null', '~', '{}', '[]', 'temprature', 'views: [[flip]]', 'p: 2', 'size: 999'];

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * (text.length + 1));
  const span = 1 + Math.floor(rand() * 12);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  switch (Math.floor(rand() * 7)) {
    case 0:
      return text.slice(0, at) + text.slice(at + span);
    case 1:
      return text.slice(0, at) + pick(SNIPPETS) + text.slice(at);
    case 2:
      return text.slice(0, at) + pick(SNIPPETS) + text.slice(at + span);
    case 3: {
      const lines = text.split('\n');
      const i = Math.floor(rand() * lines.length);
      lines.splice(i, 0, lines[Math.floor(rand() * lines.length)]);
      return lines.join('\n');
    }
    case 4:
      return text.slice(0, at);
    case 5:
      return text.replace(/\d+(\.\d+)?/g, (m) => (rand() < 0.15 ? pick(['0', '-1', '1.5', '99999', 'x', '"3"']) : m));
    default: {
      const b = Math.floor(rand() * text.length);
      const [i, j] = [Math.min(at, b), Math.max(at, b)];
      return text.slice(0, i) + text.slice(j, j + span) + text.slice(i + span, j) + text.slice(i, i + span) + text.slice(j + span);
    }
  }
}

function positionsInside(d: Diagnostic, files: Map<string, string>): boolean {
  const { start, end } = d.range;
  if (!(start.line >= 1 && start.column >= 1 && (end.line > start.line || (end.line === start.line && end.column >= start.column)))) return false;
  const text = files.get(d.file);
  if (text === undefined) return d.file.startsWith('--set');
  const lines = text.split('\n');
  return start.line <= lines.length && start.column <= lines[start.line - 1].length + 1;
}

test('1,200 mutations: no throw, no hang, clean or positioned errors', () => {
  const rand = mulberry32(20261128);
  const outcomes = { clean: 0, errors: 0 };
  for (let i = 0; i < 1200; i++) {
    const source = sources[i % sources.length];
    let text = source.text;
    const edits = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < edits; k++) text = mutate(text, rand);
    const started = Date.now();
    const result = loadSpecText(text, source.file);
    const elapsed = Date.now() - started;
    const context = `mutation ${i} of ${source.file}:\n${text}\n${result.diagnostics.map(formatDiagnostic).join('\n')}`;
    assert.ok(elapsed < 5000, `hang guard: ${elapsed} ms for ${context}`);
    assert.ok(!result.diagnostics.some((d) => d.code === 'E0000'), `internal error: ${context}`);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) {
      outcomes.errors++;
      assert.is(result.spec, undefined, context);
      for (const d of result.diagnostics) assert.ok(positionsInside(d, result.sources.files), `position outside the text: ${formatDiagnostic(d)} in ${context}`);
    } else {
      outcomes.clean++;
      assert.ok(result.spec, `no errors yet no spec: ${context}`);
      const printed = formatSpec(result.input, i % 2 ? 'yaml' : 'simclr', specComments(text, source.file));
      const again = loadSpecText(printed, source.file.replace(/\.\w+$/, i % 2 ? '.fmt.yml' : '.fmt.simclr'));
      assert.equal(again.spec, result.spec, `fmt round trip of ${context}\n${printed}`);
    }
  }
  assert.ok(outcomes.errors > 600 && outcomes.clean > 20, JSON.stringify(outcomes));
});

/** `work`'s result, failing when it took longer than `ms`: a hostile input must not stall the editor. */
function quickly<T>(ms: number, work: () => T): T {
  const started = Date.now();
  const result = work();
  assert.ok(Date.now() - started < ms, `${Date.now() - started} ms`);
  return result;
}

test('an alias bomb is refused at the alias that spends the budget', () => {
  quickly(2000, () => expectError(ALIAS_BOMB, 'E0007', 4, 45, 'aliases bring in more than 10000 values', 'bomb.yml'));
});

test('3,000 nested blocks: refused at the block past the nesting limit, in both syntaxes', () => {
  quickly(5000, () => expectError(nestedSimclr(3000), 'E0008', 1, 619, 'nest at most 64 deep'));
  quickly(5000, () => expectError(nestedYamlFlow(3000), 'E0008', 1, 828, 'nest at most 64 deep', 'deep.yml'));
  expectError(nestedYaml(40), 'E0008', 65, 131, 'nest at most 64 deep', 'deep.yml');
});

test('nesting up to the limit is parsed whole', () => {
  assert.ok(expectClean(nestedSimclr(31)).encoder.layers.length === 1);
  // In YAML the innermost `- type: relu` is a mapping, one level more than `.simclr`'s bare `relu`.
  assert.ok(expectClean(nestedYaml(30), 'deep.yml').encoder.layers.length === 1);
});

test.run();
