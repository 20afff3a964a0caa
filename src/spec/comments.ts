// Comments of a spec file, tied to the field or list item they sit on or above, so `fmt` can put
// them back. A run of comment lines belongs to the next field or item; a comment at the end of a
// line belongs to the first field or item that starts on that line; the rest go at the end.
import { lexer } from './tokens.js';
import type { Node, SpecPath } from './tree.js';

export interface Comments {
  before: Map<string, string[]>;
  trailing: Map<string, string>;
  end: string[];
}

export const pathKey = (path: SpecPath) => JSON.stringify(path);

export function collectComments(text: string, tree: Node, yaml: boolean): Comments {
  const found = yaml ? yamlComments(text) : simclrComments(text);
  const starts = elementStarts(tree);
  const comments: Comments = { before: new Map(), trailing: new Map(), end: [] };
  let pending: string[] = [];
  let next = 0;
  for (const c of found) {
    if (c.trailing) {
      const owner = starts.find((s) => s.line === c.line);
      if (owner && !comments.trailing.has(owner.key)) comments.trailing.set(owner.key, c.text);
      else pending.push(c.text);
      continue;
    }
    while (next < starts.length && starts[next].line <= c.line) next++;
    const owner = starts[next];
    if (!owner) comments.end.push(c.text);
    else comments.before.set(owner.key, [...(comments.before.get(owner.key) ?? []), ...pending, c.text]);
    pending = [];
  }
  comments.end.push(...pending);
  return comments;
}

interface Found {
  line: number;
  text: string;
  trailing: boolean;
}

function simclrComments(text: string): Found[] {
  const lexed = lexer.tokenize(text);
  const codeLines = new Set(lexed.tokens.map((t) => t.startLine));
  return (lexed.groups.comments ?? []).map((t) => ({ line: t.startLine!, text: t.image, trailing: codeLines.has(t.startLine) }));
}

/** YAML comments, except the schema modeline (`fmt` writes its own). */
function yamlComments(text: string): Found[] {
  const out: Found[] = [];
  text.split('\n').forEach((line, i) => {
    const standalone = /^\s*(#.*)$/.exec(line);
    if (standalone) {
      if (!/yaml-language-server:/.test(standalone[1])) out.push({ line: i + 1, text: standalone[1], trailing: false });
      return;
    }
    // A ' #' outside quotes starts a comment.
    let quote = '';
    for (let j = 0; j < line.length; j++) {
      const ch = line[j];
      if (quote) quote = ch === quote ? '' : quote;
      else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '#' && j > 0 && /\s/.test(line[j - 1])) {
        out.push({ line: i + 1, text: line.slice(j), trailing: true });
        return;
      }
    }
  });
  return out;
}

/** Every field and list item with the line it starts on, outermost first. */
function elementStarts(tree: Node): { line: number; key: string }[] {
  const out: { line: number; key: string; order: number }[] = [];
  const visit = (node: Node, path: SpecPath) => {
    if (node.kind === 'object') {
      for (const e of node.entries) {
        out.push({ line: e.keyLoc.range.start.line, key: pathKey([...path, e.key]), order: out.length });
        visit(e.value, [...path, e.key]);
      }
    } else if (node.kind === 'list') {
      node.items.forEach((item, i) => {
        out.push({ line: item.loc.range.start.line, key: pathKey([...path, i]), order: out.length });
        visit(item, [...path, i]);
      });
    }
  };
  visit(tree, []);
  return out.sort((a, b) => a.line - b.line || a.order - b.order);
}
