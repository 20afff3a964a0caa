// `--set key.path=value`: the value is written in the `.simclr` value syntax (a number, a name, a
// string, a list or a block) and replaces the field in the merged tree, before validation, so an
// override is checked like any other field. Diagnostics point into the override's own text.
import { diagnostic, type Diagnostic, type Loc } from './diagnostic.js';
import { parseSimclr } from './cst-to-tree.js';
import { entry, type Node } from './tree.js';

/** Fields of which a spec gives one or the other: setting one by `--set` replaces the other. */
const ONE_OF: Record<string, string> = { 'train.epochs': 'train.steps', 'train.steps': 'train.epochs' };

export function applyOverrides(tree: Node, sets: string[], diagnostics: Diagnostic[]): Node {
  let result = tree;
  sets.forEach((arg, i) => {
    const file = `--set ${arg}`;
    const at = (column: number, length: number): Loc => ({ file, range: { start: { line: 1, column }, end: { line: 1, column: column + length } } });
    const eq = arg.indexOf('=');
    const keys = eq > 0 ? arg.slice(0, eq).split('.') : [];
    if (eq <= 0 || keys.some((k) => !/^[A-Za-z_][A-Za-z0-9_-]*$|^\d+$/.test(k))) {
      diagnostics.push(diagnostic('E0204', at(1, arg.length), `override #${i + 1} '${arg}' is not of the form key.path=value`));
      return;
    }
    const parsed = parseSimclr(`${keys[keys.length - 1]}: ${arg.slice(eq + 1)}`, file);
    const shift = eq + 1 - (keys[keys.length - 1].length + 2);
    for (const d of parsed.diagnostics) diagnostics.push({ ...d, range: { start: { line: 1, column: d.range.start.column + shift }, end: { line: 1, column: d.range.end.column + shift } } });
    const value = parsed.tree.kind === 'object' ? parsed.tree.entries[0]?.value : undefined;
    if (!value || parsed.diagnostics.length) return;
    const shifted = relocate(value, shift);
    const next = setPath(result, keys, shifted, at(1, eq));
    const other = ONE_OF[keys.join('.')];
    if (next) result = other ? without(next, other.split('.')) : next;
    else diagnostics.push(diagnostic('E0204', at(1, eq), `override '${arg}': ${keys.join('.')} does not name a field that can be set (a list index is out of range or a value is in the way)`));
  });
  return result;
}

function setPath(node: Node, keys: string[], value: Node, keyLoc: Loc): Node | undefined {
  if (!keys.length) return value;
  const [key, ...rest] = keys;
  if (node.kind === 'list') {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index >= node.items.length) return undefined;
    const child = setPath(node.items[index], rest, value, keyLoc);
    return child && { ...node, items: node.items.map((item, i) => (i === index ? child : item)) };
  }
  if (node.kind !== 'object') return undefined;
  const existing = entry(node, key);
  const child = setPath(existing?.value ?? { kind: 'object', loc: keyLoc, entries: [] }, rest, value, keyLoc);
  if (!child) return undefined;
  const entries = existing ? node.entries.map((e) => (e === existing ? { ...e, value: child } : e)) : [...node.entries, { key, keyLoc, value: child }];
  return { ...node, entries };
}

function without(node: Node, keys: string[]): Node {
  const [key, ...rest] = keys;
  if (node.kind !== 'object') return node;
  const entries = rest.length ? node.entries.map((e) => (e.key === key ? { ...e, value: without(e.value, rest) } : e)) : node.entries.filter((e) => e.key !== key);
  return { ...node, entries };
}

function relocate(node: Node, shift: number): Node {
  const loc = { ...node.loc, range: { start: { ...node.loc.range.start, column: node.loc.range.start.column + shift }, end: { ...node.loc.range.end, column: node.loc.range.end.column + shift } } };
  if (node.kind === 'list') return { ...node, loc, items: node.items.map((n) => relocate(n, shift)) };
  if (node.kind === 'object') return { ...node, loc, entries: node.entries.map((e) => ({ ...e, value: relocate(e.value, shift) })) };
  return { ...node, loc };
}
