// Go to definition on an `extends` / `use` target: the stdlib preset or the spec file it names.
import { pathToFileURL } from 'node:url';
import type { Location, Position } from 'vscode-languageserver/node';
import type { SpecDocument } from './documents.js';
import { resolveReference, specTokens } from './frontend.js';
import { simclrContext } from './simclr-context.js';
import { yamlContext } from './yaml-context.js';

export function definition(spec: SpecDocument, position: Position): Location | null {
  const target = spec.syntax === 'simclr' ? simclrTarget(spec, position) : yamlTarget(spec, position);
  const file = target && resolveReference(target, spec.fileName);
  return file ? { uri: pathToFileURL(file).href, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } } : null;
}

function simclrTarget(spec: SpecDocument, position: Position): string | undefined {
  const offset = spec.doc.offsetAt(position);
  const { token } = simclrContext(specTokens(spec.doc.getText()), offset + 1);
  return token?.role === 'reference' && token.start <= offset ? token.image : undefined;
}

function yamlTarget(spec: SpecDocument, position: Position): string | undefined {
  const line = spec.doc.getText({ start: { line: position.line, character: 0 }, end: { line: position.line + 1, character: 0 } }).replace(/\r?\n$/, '');
  const found = yamlReferenceAt(line, position.character);
  if (found) return found;
  // An item of an `extends:` list, one per line.
  const ctx = yamlContext(spec.doc.getText(), position.line, position.character);
  const item = /^\s*-\s+(["']?)([^"'#\s]+)\1/.exec(line);
  return ctx.parent[0] === 'extends' && item ? item[2] : undefined;
}

/** The reference of a `use: X` / `extends: X` (block or flow style) that spans `character`. */
export function yamlReferenceAt(line: string, character: number): string | undefined {
  for (const m of line.matchAll(/\b(?:use|extends)\s*:\s*(["']?)([^"',{}[\]\s#]+)\1/g)) {
    if (m.index! <= character && character <= m.index! + m[0].length) return m[2];
  }
  return undefined;
}
