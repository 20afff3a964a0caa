// The VS Code extension's manifest agrees with the repository: the files it contributes exist once
// its install step ran, are the repository's grammar and schema, and its language settings match
// the lexer (comment marker, word shape).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../../src/spec/tokens.js';
import { packageRoot } from './fixtures.js';

const extension = join(packageRoot, 'editors', 'vscode');
const manifest = JSON.parse(readFileSync(join(extension, 'package.json'), 'utf8'));

test('the install step copies the grammar and the schema the manifest names', () => {
  const run = spawnSync(process.execPath, [join(extension, 'sync.mjs')], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const grammar = manifest.contributes.grammars[0];
  assert.is(grammar.language, 'simclr');
  assert.is(readFileSync(join(extension, grammar.path), 'utf8'), readFileSync(join(packageRoot, 'grammar', 'simclr.tmLanguage.json'), 'utf8'));
  assert.is(JSON.parse(readFileSync(join(extension, grammar.path), 'utf8')).scopeName, grammar.scopeName);
  const yaml = manifest.contributes.yamlValidation[0];
  assert.ok(yaml.fileMatch.includes('*.simclr.yml'));
  assert.is(readFileSync(join(extension, yaml.url), 'utf8'), readFileSync(join(packageRoot, 'grammar', 'simclr.schema.json'), 'utf8'));
  assert.ok(existsSync(join(extension, manifest.main)), 'the extension entry point exists');
});

test('the language configuration matches the lexer', () => {
  const language = manifest.contributes.languages[0];
  assert.equal(language.extensions, ['.simclr']);
  const config = JSON.parse(readFileSync(join(extension, language.configuration), 'utf8'));
  const comment = config.comments.lineComment as string;
  const lexed = t.lexer.tokenize(`${comment} a note\nname: "x"`);
  assert.is(lexed.groups.comments?.[0]?.image, `${comment} a note`, 'the toggle-comment marker starts a comment');
  const word = new RegExp(config.wordPattern, 'g');
  for (const sample of ['fashion-mnist', 'cat_avg_max', 'xresnet18', '1e-6', '0.07']) {
    assert.equal(sample.match(word), [sample], `${sample} is one word, as the lexer sees it`);
  }
});

test.run();
