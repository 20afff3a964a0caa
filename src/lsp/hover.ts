// Hover: the schema's documentation of the key, tag or value under the cursor; for an `extends` /
// `use` reference, the file it names.
import type { Hover, Position } from 'vscode-languageserver/node';
import { documentation, yamlTag } from './completion.js';
import { yamlReferenceAt } from './definition.js';
import type { SpecDocument } from './documents.js';
import { resolveReference, schemaDocs, specTokens } from './frontend.js';
import { simclrContext, tagKey } from './simclr-context.js';
import { wordAt, yamlContext } from './yaml-context.js';

export function hover(spec: SpecDocument, position: Position): Hover | null {
  return spec.syntax === 'simclr' ? hoverSimclr(spec, position) : hoverYaml(spec, position);
}

function hoverSimclr(spec: SpecDocument, position: Position): Hover | null {
  const offset = spec.doc.offsetAt(position);
  // One past the cursor, so the token whose first character is under the cursor counts.
  const { path, tag, token } = simclrContext(specTokens(spec.doc.getText()), offset + 1);
  if (!token || token.start > offset) return null;
  const range = { start: spec.doc.positionAt(token.start), end: spec.doc.positionAt(token.end) };
  const docs = schemaDocs();
  switch (token.role) {
    case 'key': {
      const f = docs.field([...path, token.image], tag);
      return f ? { contents: documentation(f), range } : null;
    }
    case 'value': {
      const f = token.key !== undefined ? docs.field([...path, token.key], tag) : undefined;
      return f ? { contents: documentation(f), range } : null;
    }
    case 'tag': {
      const at = token.key !== undefined ? [...path, token.key] : path;
      const found = [...docs.tags(at, tagKey(at)), ...docs.tags([...at, 0], tagKey(at))].find((t) => t.name === token.image);
      return found ? { contents: documentation(found), range } : null;
    }
    case 'keyword': {
      const f = docs.field([...path, token.image]);
      return f ? { contents: documentation(f), range } : null;
    }
    case 'reference': {
      const file = resolveReference(token.image, spec.fileName);
      return { contents: { kind: 'markdown', value: file ? `\`${file}\`` : `no preset or file \`${token.image}\`` }, range };
    }
    default:
      return null;
  }
}

function hoverYaml(spec: SpecDocument, position: Position): Hover | null {
  const line = spec.doc.getText({ start: { line: position.line, character: 0 }, end: { line: position.line + 1, character: 0 } }).replace(/\r?\n$/, '');
  const word = wordAt(line, position.character);
  if (!word.text) return null;
  // The context at the word's end: on a key, the key is being "typed"; on a value, its key is known.
  const ctx = yamlContext(spec.doc.getText(), position.line, word.end);
  const range = { start: { line: position.line, character: word.start }, end: { line: position.line, character: word.end } };
  const reference = yamlReferenceAt(line, position.character);
  if (reference && !/^(use|extends)$/.test(word.text)) {
    const file = resolveReference(reference, spec.fileName);
    return { contents: { kind: 'markdown', value: file ? `\`${file}\`` : `no preset or file \`${reference}\`` }, range };
  }
  const f = schemaDocs().field(ctx.atKey ? [...ctx.parent, word.text] : [...ctx.parent, ctx.key!], yamlTag(ctx.parent, ctx.siblings));
  return f ? { contents: documentation(f), range } : null;
}
