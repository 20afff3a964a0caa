// A spec object → text, as `.simclr` or YAML. Works on a file's own spec (`extends`/`use` kept, what
// `fmt` prints) and on a resolved spec alike; parsing the output gives the same object back. Given
// the file's comments, each is put back above (or after) the field or item it belonged to.
import { Document, isMap, isPair, isScalar, isSeq, visit, type Node as YamlNode } from 'yaml';
import { pathKey, type Comments } from './comments.js';
import { isPresetName } from './references.js';
import type { Plain, SpecPath } from './tree.js';

export type Syntax = 'simclr' | 'yaml';

const WIDTH = 100;
const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const KEYWORDS = new Set(['extends', 'use', 'true', 'false']);
/** Fields holding free text (names, paths), printed quoted even when they look like a name. */
const FREE_TEXT = new Set(['name', 'path', 'out', 'teacher']);
const TAGGED_LISTS = new Set(['layers', 'body', 'shortcut', 'ops', 'views']);

type Obj = { [key: string]: Plain };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const NO_COMMENTS: Comments = { before: new Map(), trailing: new Map(), end: [] };

export function formatSpec(spec: unknown, syntax: Syntax, comments: Comments = NO_COMMENTS): string {
  return syntax === 'yaml' ? formatYaml(spec, comments) : new SimclrPrinter(comments).spec(spec as Obj);
}

class SimclrPrinter {
  constructor(private readonly comments: Comments) {}

  spec(spec: Obj): string {
    const lines: string[] = [];
    refList(spec.extends).forEach((ref, i, all) => lines.push(...this.annotate(`extends ${reference(ref)}`, all.length > 1 ? ['extends', i] : ['extends'], '')));
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'extends' || value === undefined) continue;
      if ((isObj(value) || this.comments.before.has(pathKey([key]))) && lines.length && lines[lines.length - 1] !== '') lines.push('');
      lines.push(...this.entry(key, value, [key], 0, isObj(value)));
    }
    if (this.comments.end.length) lines.push('', ...this.comments.end);
    return lines.join('\n') + '\n';
  }

  /** Comment lines above, and a trailing comment after the first line. */
  private annotate(first: string | string[], path: SpecPath, pad: string): string[] {
    const lines = typeof first === 'string' ? [first] : [...first];
    const trailing = this.comments.trailing.get(pathKey(path));
    if (trailing) lines[0] += ` ${trailing}`;
    return [...(this.comments.before.get(pathKey(path)) ?? []).map((c) => pad + c), ...lines];
  }

  /** Whether a comment sits anywhere inside `path`: such a value is laid out one part per line. */
  private commented(path: SpecPath): boolean {
    const prefix = `${pathKey(path).slice(0, -1)},`;
    const inside = (k: string) => k.startsWith(prefix);
    return [...this.comments.before.keys(), ...this.comments.trailing.keys()].some(inside);
  }

  private entry(key: string, value: Plain, path: SpecPath, depth: number, forceBlock = false): string[] {
    const pad = '  '.repeat(depth);
    const multiline = forceBlock || this.commented(path);
    if (isObj(value)) {
      const inner = multiline ? undefined : blockInline(value, path);
      if (inner !== undefined && pad.length + key.length + inner.length + 1 <= WIDTH) return this.annotate(`${pad}${key} ${inner}`, path, pad);
      return this.annotate([`${pad}${key} {`, ...this.body(value, path, depth + 1), `${pad}}`], path, pad);
    }
    const inline = multiline ? undefined : valueInline(value, path);
    if (inline !== undefined && pad.length + key.length + 2 + inline.length <= WIDTH) return this.annotate(`${pad}${key}: ${inline}`, path, pad);
    if (Array.isArray(value)) return this.annotate([`${pad}${key}: [`, ...value.flatMap((item, i) => this.item(item, [...path, i], depth + 1)), `${pad}]`], path, pad);
    return this.annotate(`${pad}${key}: ${inline ?? valueInline(value, path)}`, path, pad);
  }

  private body(obj: Obj, path: SpecPath, depth: number): string[] {
    const pad = '  '.repeat(depth);
    const refs = refList(obj.use);
    const lines = refs.flatMap((ref, i) => this.annotate(`${pad}use ${reference(ref)}`, refs.length > 1 ? [...path, 'use', i] : [...path, 'use'], pad));
    for (const [key, value] of Object.entries(obj)) if (key !== 'use' && value !== undefined) lines.push(...this.entry(key, value, [...path, key], depth));
    return lines;
  }

  private item(item: Plain, path: SpecPath, depth: number): string[] {
    const pad = '  '.repeat(depth);
    const inline = this.commented(path) ? undefined : valueInline(item, path);
    if (inline !== undefined && pad.length + inline.length + 1 <= WIDTH) return this.annotate(`${pad}${inline},`, path, pad);
    if (Array.isArray(item)) return this.annotate([`${pad}[`, ...item.flatMap((x, i) => this.item(x, [...path, i], depth + 1)), `${pad}],`], path, pad);
    if (!isObj(item)) return this.annotate(`${pad}${valueInline(item, path)},`, path, pad);
    const tag = tagOf(item, path);
    const rest = tag ? withoutKey(item, tag) : item;
    return this.annotate([`${pad}${tag ? `${item[tag]} ` : ''}{`, ...this.body(rest, path, depth + 1), `${pad}},`], path, pad);
  }
}

/** The one-line form of a value, or undefined when it cannot be written on one line. */
function valueInline(value: Plain, path: SpecPath): string | undefined {
  if (Array.isArray(value)) {
    const items = value.map((v, i) => valueInline(v, [...path, i]));
    if (items.some((i) => i === undefined)) return undefined;
    const text = `[${items.join(', ')}]`;
    return text.length <= WIDTH ? text : undefined;
  }
  if (isObj(value)) {
    const tag = tagOf(value, path);
    if (!tag) return blockInline(value, path);
    const rest = withoutKey(value, tag);
    if (!Object.keys(rest).length) return String(value[tag]);
    const body = blockInline(rest, path);
    return body === undefined ? undefined : `${value[tag]} ${body}`;
  }
  return scalar(value, nearestKey(path));
}

function blockInline(obj: Obj, path: SpecPath): string | undefined {
  const parts: string[] = refList(obj.use).map((ref) => `use ${reference(ref)}`);
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'use' || value === undefined) continue;
    if (isObj(value) && !tagOf(value, [...path, key])) {
      const inner = blockInline(value, [...path, key]);
      if (inner === undefined) return undefined;
      parts.push(`${key} ${inner}`);
      continue;
    }
    const inline = valueInline(value, [...path, key]);
    if (inline === undefined) return undefined;
    parts.push(`${key}: ${inline}`);
  }
  const text = parts.length ? `{ ${parts.join(', ')} }` : '{}';
  return text.length <= 72 ? text : undefined;
}

/** The discriminator an object in a layer or op list is written with as a tagged block, if any. */
function tagOf(obj: Obj, path: SpecPath): string | undefined {
  if (typeof path[path.length - 1] !== 'number') return undefined;
  const tag = path.includes('augment') ? 'op' : 'type';
  const value = obj[tag];
  return typeof value === 'string' && IDENT.test(value) && !KEYWORDS.has(value) && TAGGED_LISTS.has(nearestKey(path)) ? tag : undefined;
}

const nearestKey = (path: SpecPath) => String([...path].reverse().find((p) => typeof p === 'string') ?? '');

function scalar(value: Plain, key: string): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  if (typeof value === 'boolean') return String(value);
  const s = String(value);
  return IDENT.test(s) && !KEYWORDS.has(s) && !FREE_TEXT.has(key) ? s : quote(s);
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
const reference = (ref: string) => (isPresetName(ref) && IDENT.test(ref) && !KEYWORDS.has(ref) ? ref : quote(ref));
const refList = (v: Plain | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function withoutKey(obj: Obj, key: string): Obj {
  const { [key]: _dropped, ...rest } = obj;
  return rest;
}

function formatYaml(spec: unknown, comments: Comments): string {
  const doc = new Document(spec);
  const hash = (text: string) => text.replace(/^(#|\/\/) ?/, ' ');
  const commentedPaths = [...comments.before.keys(), ...comments.trailing.keys()];
  visit(doc, {
    Pair(_, pair, ancestors) {
      attach(pair.key as YamlNode, pair.value as YamlNode, yamlPath(ancestors, pair));
    },
    Seq(_, node, ancestors) {
      node.items.forEach((item, i) => attach(item as YamlNode, item as YamlNode, [...yamlPath(ancestors, node), i]));
    },
  });
  function attach(keyNode: YamlNode, valueNode: YamlNode, path: SpecPath) {
    const before = comments.before.get(pathKey(path));
    if (before && keyNode) keyNode.commentBefore = before.map(hash).join('\n');
    const trailing = comments.trailing.get(pathKey(path));
    if (trailing && valueNode) valueNode.comment = hash(trailing);
  }
  // Small mappings and lists of scalars read best on one line (`- { type: conv, out: 32 }`), unless
  // a comment sits inside them: a flow collection cannot hold one.
  visit(doc, {
    Map(_, node, ancestors) {
      const inside = `${pathKey(yamlPath(ancestors, node)).slice(0, -1)},`;
      if (commentedPaths.some((k) => k.startsWith(inside))) return;
      const simple = node.items.every((p) => isScalar(p.value) || (isSeq(p.value) && p.value.items.every(isScalar)));
      if (simple && node.items.length <= 6 && JSON.stringify(node.toJSON()).length <= 70) node.flow = true;
    },
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i) || isSeq(i)) && JSON.stringify(node.toJSON()).length <= 70) node.flow = true;
      if (node.items.some(isMap)) node.flow = false;
    },
  });
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: true });
  return comments.end.length ? `${text}\n${comments.end.map((c) => `#${hash(c)}`).join('\n')}\n` : text;
}

/** The spec path of a YAML node from its ancestors (documents, pairs, maps and sequences). */
function yamlPath(ancestors: readonly unknown[], self?: unknown): SpecPath {
  const chain = [...ancestors, self];
  const path: SpecPath = [];
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isPair(child) && isScalar(child.key)) path.push(String(child.key.value));
    else if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
  }
  return path;
}
