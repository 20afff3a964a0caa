// The located tree: what both parsers produce and the resolver merges. It is the plain spec object
// with a source location on every key and value, so any later error can point at the text.
import type { Loc } from './diagnostic.js';

export type Scalar = string | number | boolean;
export interface Entry {
  key: string;
  keyLoc: Loc;
  value: Node;
}
export type Node =
  | { kind: 'object'; loc: Loc; entries: Entry[] }
  | { kind: 'list'; loc: Loc; items: Node[] }
  | { kind: 'scalar'; loc: Loc; value: Scalar };

/**
 * How deep blocks and lists may nest, in both syntaxes: far past any real spec, and short of the
 * depth where the parsers and every recursive walk after them would run out of stack.
 */
export const MAX_NESTING = 64;

export type SpecPath = (string | number)[];
export type Plain = Scalar | Plain[] | { [key: string]: Plain };

export function toPlain(node: Node): Plain {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'list':
      return node.items.map(toPlain);
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, toPlain(e.value)]));
  }
}

export function entry(node: Node, key: string): Entry | undefined {
  return node.kind === 'object' ? node.entries.find((e) => e.key === key) : undefined;
}

/** The node at `path` and the entry holding it (for the key's location), as far as the path goes. */
export function walk(node: Node, path: SpecPath): { node: Node; entry?: Entry; depth: number } {
  let current = node;
  let holder: Entry | undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (current.kind === 'list' && typeof step === 'number' && current.items[step]) {
      current = current.items[step];
      holder = undefined;
    } else {
      const e = entry(current, String(step));
      if (!e) return { node: current, entry: holder, depth: i };
      current = e.value;
      holder = e;
    }
  }
  return { node: current, entry: holder, depth: path.length };
}

/** Overlays `over` on `base`: objects merge key by key, anything else is replaced whole. */
export function merge(base: Node, over: Node): Node {
  if (base.kind !== 'object' || over.kind !== 'object') return over;
  const entries = [...base.entries];
  for (const e of over.entries) {
    const i = entries.findIndex((b) => b.key === e.key);
    if (i < 0) entries.push(e);
    else entries[i] = { ...e, value: merge(entries[i].value, e.value) };
  }
  return { kind: 'object', loc: over.loc, entries };
}

export function fromPlain(value: Plain, loc: Loc): Node {
  if (Array.isArray(value)) return { kind: 'list', loc, items: value.map((v) => fromPlain(v, loc)) };
  if (typeof value === 'object') return { kind: 'object', loc, entries: Object.entries(value).map(([key, v]) => ({ key, keyLoc: loc, value: fromPlain(v, loc) })) };
  return { kind: 'scalar', loc, value };
}
