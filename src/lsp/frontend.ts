// The server's one door into the spec front end (src/spec/): its loader for diagnostics, its lexer
// for cursor context, its printer for formatting, its reference resolution for go-to-definition,
// and the schema it validates with. Nothing here parses specs a second way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shapeDiagnostics } from '../ir/shape-check.js';
import { packageRoot } from '../spec/references.js';
import { formatSource, loadSpecText, resolvePresetPath, stdlibPresets, type Diagnostic } from '../spec/index.js';
import * as tokens from '../spec/tokens.js';
import { SchemaDocs } from './schema-docs.js';
import type { SpecToken, TokenKind } from './simclr-context.js';


export type { Diagnostic };
/** Reads a referenced file from the editor's buffers (undefined: from disk). */
export type ReadText = (absolutePath: string) => string | undefined;

/** What `check` reports for this text (its own and its presets' problems, then its layers' shapes). */
export function checkText(text: string, fileName: string, readText?: ReadText): Diagnostic[] {
  const loaded = loadSpecText(text, fileName, { readText });
  return loaded.spec ? [...loaded.diagnostics, ...shapeDiagnostics(loaded.spec, loaded.sources)] : loaded.diagnostics;
}

/** The text `fmt` would print, or undefined when the spec has errors. */
export function formatText(text: string, fileName: string, syntax: 'simclr' | 'yaml', readText?: ReadText): string | undefined {
  return formatSource(text, fileName, syntax, { readText }).text;
}

const KINDS = new Map<unknown, TokenKind>([
  [tokens.LCurly, 'lbrace'],
  [tokens.RCurly, 'rbrace'],
  [tokens.LBracket, 'lbracket'],
  [tokens.RBracket, 'rbracket'],
  [tokens.Colon, 'colon'],
  [tokens.Comma, 'comma'],
  [tokens.Identifier, 'ident'],
  [tokens.StringLiteral, 'string'],
  [tokens.UnterminatedString, 'string'],
  [tokens.NumberLiteral, 'number'],
  [tokens.True, 'boolean'],
  [tokens.False, 'boolean'],
  [tokens.Extends, 'extends'],
  [tokens.Use, 'use'],
]);

/** The `.simclr` tokens of `text` (comments and whitespace left out), from the front end's lexer. */
export function specTokens(text: string): SpecToken[] {
  return tokens.lexer.tokenize(text).tokens.map((t) => ({
    kind: KINDS.get(t.tokenType) ?? 'other',
    image: t.tokenType === tokens.StringLiteral ? unquote(t.image) : t.image,
    start: t.startOffset,
    end: t.startOffset + t.image.length,
  }));
}

function unquote(image: string): string {
  try {
    return JSON.parse(image) as string;
  } catch {
    return image.slice(1, -1);
  }
}

let docs: SchemaDocs | undefined;
export function schemaDocs(): SchemaDocs {
  docs ??= new SchemaDocs(JSON.parse(readFileSync(join(packageRoot, 'grammar', 'simclr.schema.json'), 'utf8')));
  return docs;
}

/** The stdlib presets' names, as `extends` / `use` take them. */
export function presetNames(): string[] {
  return [...stdlibPresets().keys()];
}

/** The file an `extends` / `use` reference names, as the front end resolves it. */
export function resolveReference(reference: string, fromFile: string): string | undefined {
  return resolvePresetPath(reference, fromFile);
}

/** The comments of a spec's text, as written (`.simclr`: from the lexer; YAML: `#` to the line's end). */
export function specComments(text: string, syntax: 'simclr' | 'yaml'): string[] {
  if (syntax === 'simclr') return (tokens.lexer.tokenize(text).groups.comments ?? []).map((t) => t.image);
  return [...text.matchAll(/(?:^|\s)(#.*)$/gm)].map((m) => m[1]);
}
