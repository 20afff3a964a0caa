// YAML text → located tree, with the `yaml` package's source ranges turned into line:column.
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Alias, type Node as YamlNode } from 'yaml';
import type { Position } from './diagnostic.js';
import { diagnostic, type Diagnostic, type Loc } from './diagnostic.js';
import { MAX_NESTING, type Entry, type Node } from './tree.js';

/** Values that aliases may bring into one file's tree, in all: far past any real spec's sharing. */
const MAX_ALIAS_VALUES = 10_000;

export function parseYaml(text: string, file: string): { tree: Node; diagnostics: Diagnostic[] } {
  const doc = parseDocument(text, { prettyErrors: false });
  const diagnostics: Diagnostic[] = [];
  const position = linePositions(text);
  const loc = (start: number, end: number): Loc => ({ file, range: { start: position(start), end: position(Math.max(start, end)) } });
  const whole = loc(0, text.length);
  const targets = aliasTargets(doc.contents);
  // The tree is built with every alias expanded where it stands, so aliases of aliases multiply (a
  // "billion laughs" of a few lines): the values they bring in are counted, and past the budget an
  // alias brings in nothing more. The walk's work is bounded by the text and the budget.
  let aliased = 0;
  let inAlias: YamlNode | undefined;
  let tooMany = false;
  const empty = (y: unknown, at: Loc): Node | undefined => (isMap(y) ? { kind: 'object', loc: at, entries: [] } : isSeq(y) ? { kind: 'list', loc: at, items: [] } : build(y, at, 0));
  const build = (node: unknown, fallback: Loc, depth: number): Node | undefined => {
    if (isAlias(node)) {
      const at = node.range ? loc(node.range[0], node.range[1]) : fallback;
      const target = targets.get(node);
      if (tooMany) return empty(target, at);
      const outer = inAlias;
      inAlias ??= node;
      const built = build(target, at, depth);
      inAlias = outer;
      return built;
    }
    if (inAlias && ++aliased > MAX_ALIAS_VALUES && !tooMany) {
      tooMany = true;
      const first = inAlias.range ? loc(inAlias.range[0], inAlias.range[1]) : fallback;
      diagnostics.push(diagnostic('E0007', first, `aliases bring in more than ${MAX_ALIAS_VALUES} values in all (aliases of aliases multiply): this one goes past that`));
    }
    const y = node as YamlNode | null;
    const at = y?.range ? loc(y.range[0], y.range[1]) : fallback;
    if ((isMap(y) || isSeq(y)) && depth > MAX_NESTING) {
      diagnostics.push(diagnostic('E0008', at, `blocks and lists nest at most ${MAX_NESTING} deep: this one's contents are left out`));
      return empty(y, at);
    }
    if (isMap(y)) {
      const entries: Entry[] = [];
      for (const pair of y.items) {
        const keyNode = pair.key as YamlNode | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
        const keyLoc = keyNode?.range ? loc(keyNode.range[0], keyNode.range[1]) : at;
        if (key === undefined) {
          diagnostics.push(diagnostic('E0101', keyLoc, 'a key must be a plain name'));
          continue;
        }
        const value = build(pair.value, keyLoc, depth + 1);
        if (value === undefined) {
          diagnostics.push(diagnostic('E0101', keyLoc, `'${key}' has no value`));
          continue;
        }
        if (!entries.some((e) => e.key === key)) entries.push({ key, keyLoc, value });
      }
      return { kind: 'object', loc: at, entries };
    }
    if (isSeq(y)) {
      const items = y.items.map((item) => build(item, at, depth + 1)).filter((n): n is Node => n !== undefined);
      return { kind: 'list', loc: at, items };
    }
    if (isScalar(y)) {
      const v = y.value;
      if (v === null || v === undefined) return undefined;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { kind: 'scalar', loc: at, value: v };
      return { kind: 'scalar', loc: at, value: String(v) };
    }
    return undefined;
  };
  const tree = build(doc.contents, whole, 0);
  // After one syntax error the parser's view of the rest is a guess, and its further complaints are
  // echoes of the first: keep that one, and every duplicate key (each is a typo of its own). The
  // `yaml` package's own stack running out is the nesting already reported.
  const tooDeep = diagnostics.some((d) => d.code === 'E0008');
  let syntaxReported = false;
  for (const err of [...doc.errors, ...doc.warnings]) {
    if (tooDeep && err.code === 'RESOURCE_EXHAUSTION') continue;
    const [start, end] = err.pos;
    const code = err.code === 'DUPLICATE_KEY' ? 'E0005' : 'E0006';
    if (code === 'E0006' && syntaxReported) continue;
    syntaxReported ||= code === 'E0006';
    const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    diagnostics.push(diagnostic(code, loc(start, end), message));
  }
  if (tree && tree.kind !== 'object') {
    diagnostics.push(diagnostic('E0101', tree.loc, 'a spec must be a mapping of sections (data, encoder, ...)'));
    return { tree: { kind: 'object', loc: whole, entries: [] }, diagnostics };
  }
  return { tree: tree ?? { kind: 'object', loc: whole, entries: [] }, diagnostics };
}

/**
 * Each alias's node: the last anchor of its name before it, in document order, as the `yaml`
 * package resolves them. One pass over the document, with a stack of its own: `Alias.resolve` walks
 * the whole document on every call, and recursion would run out of stack on deep nesting.
 */
function aliasTargets(root: unknown): Map<Alias, YamlNode | undefined> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode | undefined>();
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) targets.set(node, anchors.get(node.source));
    else if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    if (isMap(node)) for (const pair of [...node.items].reverse()) stack.push(pair.value, pair.key);
    else if (isSeq(node)) stack.push(...[...node.items].reverse());
  }
  return targets;
}

/** Offset → 1-based line and column, from the text's own line starts. */
function linePositions(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    const at = Math.min(Math.max(offset, 0), text.length);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - starts[lo] + 1 };
  };
}
