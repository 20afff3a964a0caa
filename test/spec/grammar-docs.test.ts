// grammar/ stays in step with the code: the diagrams are the parser's, the EBNF names every parser
// rule, and the diagnostics table lists every code of the catalogue with its meaning.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES } from '../../src/spec/index.js';
import { parser } from '../../src/spec/parser.js';
import { packageRoot } from './expect.js';

const doc = readFileSync(join(packageRoot, 'grammar/README.md'), 'utf8');

test('grammar/diagrams.html is generated from the current parser', () => {
  const current = readFileSync(join(packageRoot, 'grammar/diagrams.html'), 'utf8');
  assert.ok(current === createSyntaxDiagramsCode(parser.getSerializedGastProductions()), 'run: node scripts/syntax-diagrams.js');
});

test('the EBNF defines every parser rule', () => {
  const ebnf = /```ebnf\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const defined = new Set([...ebnf.matchAll(/^(\w+)\s*=/gm)].map((m) => m[1]));
  assert.equal([...defined].sort(), Object.keys(parser.getGAstProductions()).sort());
});

test('the diagnostics table lists every code', () => {
  for (const [code, { title }] of Object.entries(CODES)) {
    if (code === 'E0000') continue;
    const row = new RegExp(`^\\| ${code} \\| (.*) \\|$`, 'm').exec(doc);
    assert.ok(row, `${code} in grammar/README.md`);
    assert.is(row[1], title, `${code}'s meaning`);
  }
});

test.run();
