// Completion from the schema: the keys a block may hold, the values a key may take, the tags of a
// tagged block or list item, and the stdlib presets after `extends` / `use`. Every item carries the
// schema's description and default.
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Position } from 'vscode-languageserver/node';
import type { SpecDocument } from './documents.js';
import { presetNames, schemaDocs, specTokens } from './frontend.js';
import type { FieldDoc, SpecPath } from './schema-docs.js';
import { blockKeys, simclrContext, tagKey } from './simclr-context.js';
import { yamlContext } from './yaml-context.js';

export const COMPLETION_TRIGGERS = ['{', ':', '['];

export function complete(spec: SpecDocument, position: Position): CompletionItem[] {
  return spec.syntax === 'simclr' ? completeSimclr(spec, position) : completeYaml(spec, position);
}

function completeSimclr(spec: SpecDocument, position: Position): CompletionItem[] {
  const tokens = specTokens(spec.doc.getText());
  const offset = spec.doc.offsetAt(position);
  const ctx = simclrContext(tokens, offset);
  // Inside a string (a path, a name) the schema has nothing to offer.
  if (ctx.token?.kind === 'string' && ctx.token.role !== 'reference') return [];
  const docs = schemaDocs();
  switch (ctx.slot.at) {
    case 'key': {
      // `use` and `extends` are keywords in `.simclr` (`use xresnet18`), not `key:` entries.
      const written = blockKeys(tokens, offset);
      return docs
        .fields(ctx.path, ctx.tag)
        .filter((f) => f.name !== ctx.tag?.key && !written.has(f.name))
        .map((f) => (f.name === 'use' || f.name === 'extends' ? keywordItem(f) : keyItem(f, 'simclr')));
    }
    case 'value':
      return valueItems(docs.field([...ctx.path, ctx.slot.key], ctx.tag), [...ctx.path, ctx.slot.key]);
    case 'item':
      return valueItems(docs.field(ctx.path), ctx.path);
    case 'reference':
      return presetNames().map((name) => ({ label: name, kind: CompletionItemKind.Module, detail: 'stdlib preset' }));
  }
}

function completeYaml(spec: SpecDocument, position: Position): CompletionItem[] {
  const ctx = yamlContext(spec.doc.getText(), position.line, position.character);
  const docs = schemaDocs();
  if (ctx.atKey) {
    const tag = yamlTag(ctx.parent, ctx.siblings);
    return docs
      .fields(ctx.parent, tag)
      .filter((f) => !ctx.siblings.has(f.name))
      .map((f) => keyItem(f, 'yaml'));
  }
  if (ctx.key === 'use' || ctx.key === 'extends') {
    return presetNames().map((name) => ({ label: name, kind: CompletionItemKind.Module, detail: 'stdlib preset' }));
  }
  return valueItems(docs.field([...ctx.parent, ctx.key!], yamlTag(ctx.parent, ctx.siblings)), [...ctx.parent, ctx.key!], 'yaml');
}

/** The tag a YAML mapping states in its own `type:` / `op:` key. */
export function yamlTag(parent: SpecPath, siblings: Map<string, string>): { key: string; value: string } | undefined {
  const key = tagKey(parent);
  const value = siblings.get(key)?.replace(/^["']|["']$/g, '');
  return value ? { key, value } : undefined;
}

function keyItem(f: FieldDoc, syntax: 'simclr' | 'yaml'): CompletionItem {
  const block = f.type === 'object';
  const insertText = syntax === 'yaml' ? `${f.name}: ` : block ? `${f.name} {\n\t$0\n}` : `${f.name}: `;
  return {
    label: f.name,
    kind: block ? CompletionItemKind.Module : CompletionItemKind.Property,
    detail: detailOf(f),
    documentation: documentation(f),
    insertText,
    insertTextFormat: insertText.includes('$0') ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
  };
}

/** Literal values (enums, booleans) and, for tagged objects, their tags. */
function valueItems(f: FieldDoc | undefined, path: SpecPath, syntax: 'simclr' | 'yaml' = 'simclr'): CompletionItem[] {
  if (!f) return [];
  const items: CompletionItem[] = f.values.map((v) => ({
    label: String(v),
    kind: CompletionItemKind.EnumMember,
    detail: v === f.default ? `${f.name} (default)` : f.name,
    documentation: documentation(f),
  }));
  if (syntax === 'simclr') {
    for (const tag of [...schemaDocs().tags(path, tagKey(path)), ...schemaDocs().tags([...path, 0], tagKey(path))]) {
      if (items.some((i) => i.label === tag.name)) continue;
      items.push({
        label: tag.name,
        kind: CompletionItemKind.Struct,
        detail: `${tagKey(path)}: ${tag.name}`,
        documentation: tag.description ? { kind: MarkupKind.Markdown, value: tag.description } : undefined,
      });
    }
  }
  return items;
}

function keywordItem(f: FieldDoc): CompletionItem {
  return { label: f.name, kind: CompletionItemKind.Keyword, documentation: documentation(f), insertText: `${f.name} ` };
}

function detailOf(f: FieldDoc): string | undefined {
  const parts = [f.type, f.default !== undefined ? `default ${JSON.stringify(f.default)}` : undefined].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

/** Markdown for completion and hover: the description, then default and allowed values. */
export function documentation(f: FieldDoc): { kind: 'markdown'; value: string } {
  const lines = [f.description ?? ''];
  if (f.default !== undefined) lines.push(`Default: \`${JSON.stringify(f.default)}\``);
  if (f.values.length) lines.push(`Values: ${f.values.map((v) => `\`${String(v)}\``).join(', ')}`);
  const range = rangeOf(f);
  if (range) lines.push(range);
  return { kind: MarkupKind.Markdown, value: lines.filter(Boolean).join('\n\n') };
}

function rangeOf(f: FieldDoc): string | undefined {
  const s = f.schema;
  const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : undefined;
  const hi = s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : s.maximum !== undefined ? `≤ ${s.maximum}` : undefined;
  return lo || hi ? `Range: ${[lo, hi].filter(Boolean).join(', ')}` : undefined;
}
