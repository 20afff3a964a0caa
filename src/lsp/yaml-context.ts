// Where the cursor is in a spec YAML file, as a spec path (`['optimizer']`, `['augment', 'views', 0,
// 1]`). Read from indentation, line by line upwards, so it works on the half-typed files an editor
// holds (a key with no value yet, a dangling `- `), where a YAML parser gives up.
import type { SpecPath } from './schema-docs.js';

export interface YamlContext {
  /** The path of the mapping the cursor is in. */
  parent: SpecPath;
  /** The key on the cursor's line, when the cursor is on its value (`type: la|`). */
  key?: string;
  /** Whether the cursor is where a key goes (start of a line / after `- `), not a value. */
  atKey: boolean;
  /** The other keys of the block mapping that holds the cursor, with their values as written. */
  siblings: Map<string, string>;
}

const KEY = /^([A-Za-z_][\w.-]*)\s*:(?=\s|$)/;

/** What a line opens, outermost first: `- ` list items and a `key:`, each with its column. */
interface Opener {
  column: number;
  key?: string; // undefined for a `- ` item
}

function openers(text: string): Opener[] {
  const code = text.replace(/(^|\s)#.*$/, '');
  const out: Opener[] = [];
  let i = code.length - code.trimStart().length;
  while (code[i] === '-' && (i + 1 === code.length || code[i + 1] === ' ')) {
    out.push({ column: i });
    i++;
    while (code[i] === ' ') i++;
  }
  const key = KEY.exec(code.slice(i));
  if (key) out.push({ column: i, key: key[1] });
  else if (i < code.length && !out.length) out.push({ column: i, key: '' }); // a bare word: still structure
  return out;
}

export function yamlContext(text: string, line: number, character: number): YamlContext {
  const lines = text.split(/\r?\n/);
  const current = lines[line] ?? '';
  const before = current.slice(0, character);
  const own = openers(before);
  const ownKey = own.find((o) => o.key);
  const onValue = !!ownKey?.key && KEY.test(before.slice(ownKey.column));
  // The cursor's line contributes its `- ` items; the key it is typing is not its own ancestor.
  const chain: SpecPath = [];
  // What the cursor types starts after the line's `- ` markers: that column decides its nesting.
  let threshold = /^[\s-]*/.exec(before)![0].length;
  let byDash = false;
  const take = (ops: Opener[], lineNo: number) => {
    for (let j = ops.length - 1; j >= 0; j--) {
      const o = ops[j];
      const isKey = o.key !== undefined;
      if (!(o.column < threshold || (isKey && byDash && o.column === threshold))) continue;
      if (isKey) {
        if (!o.key) return; // a bare word line is no container
        chain.unshift(o.key);
      } else chain.unshift(itemIndex(lines, lineNo, o.column));
      threshold = o.column;
      byDash = !isKey;
    }
  };
  take(own.filter((o) => o.key === undefined), line);
  for (let i = line - 1; i >= 0 && threshold > 0; i--) take(openers(lines[i]), i);
  if (onValue) {
    // `key: { a: 1, b: [x, y] }`: a flow collection on the key's line nests further.
    const valueStart = before.indexOf(':', ownKey!.column) + 1;
    const flow = flowContext(before.slice(valueStart));
    if (flow) return { parent: [...chain, ownKey!.key!, ...flow.path], key: flow.key, atKey: flow.key === undefined, siblings: new Map() };
  }
  const column = /^[\s-]*/.exec(before)![0].length;
  return { parent: chain, key: onValue ? ownKey!.key : undefined, atKey: !onValue, siblings: siblingKeys(lines, line, column) };
}

/** The keys at `column` of the block mapping around line `at` (the cursor's own line left out). */
function siblingKeys(lines: string[], at: number, column: number): Map<string, string> {
  const found = new Map<string, string>();
  const take = (ops: Opener[], text: string) => {
    const key = ops.find((o) => o.column === column && o.key);
    if (key) found.set(key.key!, text.slice(key.column).replace(KEY, '').replace(/\s+#.*$/, '').trim());
  };
  // Upwards the mapping's first line may open it with `- ` further left; downwards such a line is the next item.
  for (let i = at - 1; i >= 0; i--) {
    const ops = openers(lines[i]);
    if (!ops.length) continue;
    if (ops[0].column < column && !ops.some((o) => o.column === column)) break;
    take(ops, lines[i]);
    if (ops[0].column < column) break;
  }
  for (let i = at + 1; i < lines.length; i++) {
    const ops = openers(lines[i]);
    if (!ops.length) continue;
    if (ops[0].column < column) break;
    take(ops, lines[i]);
  }
  return found;
}

/** The cursor's place inside a one-line flow collection, or undefined when it is not inside one. */
function flowContext(text: string): { path: SpecPath; key?: string } | undefined {
  const stack: { list: boolean; index: number; key?: string; path: SpecPath }[] = [];
  let word = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close < 0) break;
      i = close;
      continue;
    }
    if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) break;
    if (c === '{' || c === '[') {
      const path: SpecPath = top ? [...top.path, top.list ? top.index : (top.key ?? '')] : [];
      stack.push({ list: c === '[', index: 0, path });
    } else if (c === '}' || c === ']') {
      stack.pop();
      if (!stack.length) return undefined;
    } else if (c === ',' && top) {
      if (top.list) top.index++;
      else top.key = undefined;
    } else if (c === ':' && top && !top.list && /\s/.test(text[i + 1] ?? ' ')) {
      top.key = word;
    }
    word = /[\w.-]/.test(c) ? (/[\w.-]/.test(text[i - 1] ?? ' ') ? word + c : c) : c === ' ' ? word : '';
  }
  const top = stack[stack.length - 1];
  if (!top) return undefined;
  if (top.list) return { path: [...top.path, top.index] };
  return { path: top.path, key: top.key };
}

/** The index of the `- ` item at `column` on line `at` among its siblings above it. */
function itemIndex(lines: string[], at: number, column: number): number {
  let index = 0;
  for (let i = at - 1; i >= 0; i--) {
    const ops = openers(lines[i]);
    if (!ops.length) continue;
    const same = ops.find((o) => o.column === column);
    if (same?.key !== undefined || (!same && ops[0].column < column)) break;
    if (same) index++;
  }
  return index;
}

export function wordAt(text: string, character: number): { text: string; start: number; end: number } {
  let start = character;
  let end = character;
  while (start > 0 && /[\w.-]/.test(text[start - 1])) start--;
  while (end < text.length && /[\w.-]/.test(text[end])) end++;
  return { text: text.slice(start, end), start, end };
}
