// The TextMate grammar against the front end's lexer on every example and stdlib file: each token
// the lexer finds must get the scope an editor theme colours it by (keys, tags, enum values, numbers,
// strings, booleans, keywords, comments), not merely tokenize without crashing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IToken } from 'chevrotain';
import * as t from '../../src/spec/tokens.js';
import { packageRoot } from './fixtures.js';
import { loadSimclrGrammar, type TmToken } from './textmate.js';

function simclrFiles(): string[] {
  return ['examples', 'stdlib'].flatMap((dir) =>
    readdirSync(join(packageRoot, dir), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.simclr'))
      .map((f) => join(dir, f)),
  );
}

/** The scope a lexer token must carry, from the token and its neighbours. */
function expectedScope(token: IToken, previous: IToken | undefined, next: IToken | undefined, inList: boolean): string {
  switch (token.tokenType) {
    case t.NumberLiteral:
      return 'constant.numeric.simclr';
    case t.StringLiteral:
      return 'string.quoted.double.simclr';
    case t.True:
    case t.False:
      return 'constant.language.boolean.simclr';
    case t.Extends:
    case t.Use:
      return 'keyword.control.import.simclr';
    case t.Comment:
      return 'comment.line';
    case t.Identifier: {
      if (previous?.tokenType === t.Extends || previous?.tokenType === t.Use) return 'entity.name.type.module.simclr';
      if (next?.tokenType === t.Colon) return 'support.type.property-name.simclr';
      if (inList) return 'entity.name.type.tag.simclr';
      if (next?.tokenType === t.LCurly) return previous?.tokenType === t.Colon ? 'entity.name.type.tag.simclr' : 'support.type.property-name.simclr';
      return previous?.tokenType === t.Colon ? 'constant.other.enum.simclr' : 'support.type.property-name.simclr';
    }
    default:
      return 'punctuation';
  }
}

function scopeAt(tm: TmToken[], token: IToken): string[] {
  const found = tm.find((x) => x.line === token.startLine && x.column <= token.startColumn! && token.startColumn! < x.column + x.text.length);
  return found?.scopes ?? [];
}

test('every token of every example and stdlib file gets its scope', async () => {
  const tokenize = await loadSimclrGrammar(join(packageRoot, 'grammar', 'simclr.tmLanguage.json'));
  const files = simclrFiles();
  assert.ok(files.length >= 6, `${files.length} .simclr files`);
  const counts = new Map<string, number>();
  const wrong: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(packageRoot, file), 'utf8');
    const lexed = t.lexer.tokenize(text);
    assert.equal(lexed.errors, [], `${file} lexes`);
    const code = lexed.tokens;
    const all = [...code, ...(lexed.groups.comments ?? [])].sort((a, b) => a.startOffset - b.startOffset);
    const tm = tokenize(text);
    const brackets: IToken[] = [];
    for (const token of all) {
      const i = code.indexOf(token);
      const want = expectedScope(token, code[i - 1], code[i + 1], brackets[brackets.length - 1]?.tokenType === t.LBracket);
      if (token.tokenType === t.LBracket || token.tokenType === t.LCurly) brackets.push(token);
      if (token.tokenType === t.RBracket || token.tokenType === t.RCurly) brackets.pop();
      if (want === 'punctuation') continue;
      counts.set(want, (counts.get(want) ?? 0) + 1);
      const scopes = scopeAt(tm, token);
      if (!scopes.some((s) => s === want || s.startsWith(want + '.'))) wrong.push(`${file}:${token.startLine}:${token.startColumn} ${token.image}: want ${want}, got ${scopes.join(' ')}`);
    }
  }
  assert.equal(wrong.slice(0, 20), [], `${wrong.length} tokens with the wrong scope`);
  // The files exercise every kind of token the grammar scopes.
  for (const kind of ['constant.numeric.simclr', 'string.quoted.double.simclr', 'comment.line', 'support.type.property-name.simclr', 'entity.name.type.tag.simclr', 'constant.other.enum.simclr', 'keyword.control.import.simclr', 'entity.name.type.module.simclr', 'constant.language.boolean.simclr']) {
    assert.ok((counts.get(kind) ?? 0) > 0, `some ${kind} in the examples and stdlib (${JSON.stringify([...counts])})`);
  }
});

test('scopes of a hand-written line: key, tag, number, string, comment', async () => {
  const tokenize = await loadSimclrGrammar(join(packageRoot, 'grammar', 'simclr.tmLanguage.json'));
  const line = 'optimizer: adamw { lr: 1e-3  betas: [0.9, .999] } // note';
  const scopes = (text: string) => tokenize(line).find((x) => x.text === text)?.scopes ?? [];
  assert.ok(scopes('optimizer').includes('support.type.property-name.simclr'));
  assert.ok(scopes('adamw').includes('entity.name.type.tag.simclr'));
  assert.ok(scopes('1e-3').includes('constant.numeric.simclr'));
  assert.ok(scopes('.999').includes('constant.numeric.simclr'));
  assert.ok(scopes(' note').some((s) => s.startsWith('comment.line.double-slash')));
  const escaped = tokenize('path: "a \\" b" # c');
  assert.ok(escaped.find((x) => x.text === '\\"')?.scopes.includes('constant.character.escape.simclr'), 'escape inside string');
  assert.ok(escaped.find((x) => x.text === ' b')?.scopes.includes('string.quoted.double.simclr'), 'string goes on past the escape');
  assert.ok(escaped.find((x) => x.text === ' c')?.scopes.some((s) => s.startsWith('comment.line.number-sign')));
  const names = tokenize('data { source: fashion-mnist  user: xresnet18 }');
  assert.ok(names.find((x) => x.text === 'fashion-mnist')?.scopes.includes('constant.other.enum.simclr'), 'hyphenated names are one token');
  assert.ok(names.find((x) => x.text === 'user')?.scopes.includes('support.type.property-name.simclr'), '`user` is no `use`');
});

test.run();
