// Follows `extends` (top level) and `use` (in a block) through the located trees of the files they
// name, merging each base under the file that refers to it. Every file is parsed once per load; a
// file already on the reference chain is a cycle (E0202), reported where the chain closes.
import { readFileSync, statSync } from 'node:fs';
import { relative, resolve as resolvePath } from 'node:path';
import { parseSimclr } from './cst-to-tree.js';
import { closest, suggestion } from './did-you-mean.js';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { isPresetName, resolvePresetPath, stdlibPresets } from './references.js';
import { entry, merge, type Node, type SpecPath } from './tree.js';
import { parseYaml } from './yaml-to-tree.js';

export type ReadText = (absolutePath: string) => string | undefined;

export interface Parsed {
  tree: Node;
  diagnostics: Diagnostic[];
}

/** Parses by file extension: .yml / .yaml as YAML, anything else as `.simclr`. */
export function parseText(text: string, file: string): Parsed {
  return /\.ya?ml$/i.test(file) ? parseYaml(text, file) : parseSimclr(text, file);
}

const fileCache = new Map<string, { mtimeMs: number; text: string; parsed: Parsed }>();

/** A file's parse, read again only when its modification time changed. */
function parseFromDisk(abs: string): { text: string; parsed: Parsed } | undefined {
  try {
    const mtimeMs = statSync(abs).mtimeMs;
    const cached = fileCache.get(abs);
    if (cached?.mtimeMs === mtimeMs) return cached;
    const text = readFileSync(abs, 'utf8');
    const fresh = { mtimeMs, text, parsed: parseText(text, displayName(abs)) };
    fileCache.set(abs, fresh);
    return fresh;
  } catch {
    return undefined;
  }
}

/** How a referenced file is named in diagnostics: relative to the working folder when inside it. */
export function displayName(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

export class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  readonly files = new Map<string, string>();
  private readonly parsed = new Map<string, Parsed | undefined>();

  constructor(private readonly readText?: ReadText) {}

  /** The root file's tree with every `extends` and `use` expanded. */
  expandRoot(tree: Node, file: string): Node {
    return this.expandFile(tree, [resolvePath(file)]);
  }

  private expandFile(tree: Node, chain: string[]): Node {
    let base: Node = { kind: 'object', loc: tree.loc, entries: [] };
    const ext = entry(tree, 'extends');
    for (const ref of refs(ext?.value)) {
      const expanded = this.follow(ref, chain);
      if (expanded) base = merge(base, expanded);
    }
    const own = tree.kind === 'object' ? { ...tree, entries: tree.entries.filter((e) => e.key !== 'extends' || !refsOk(e.value)) } : tree;
    return merge(base, this.expandUses(own, [], chain));
  }

  private expandUses(node: Node, path: SpecPath, chain: string[]): Node {
    if (node.kind === 'list') return { ...node, items: node.items.map((item, i) => this.expandUses(item, [...path, i], chain)) };
    if (node.kind !== 'object') return node;
    const use = path.length ? entry(node, 'use') : undefined;
    const entries = node.entries
      .filter((e) => e !== use || !refsOk(e.value))
      .map((e) => ({ ...e, value: this.expandUses(e.value, [...path, e.key], chain) }));
    let base: Node = { kind: 'object', loc: node.loc, entries: [] };
    for (const ref of refs(use?.value)) {
      const preset = this.follow(ref, chain);
      if (!preset) continue;
      const keys = path.filter((p): p is string => typeof p === 'string');
      const block = keys.reduce<Node | undefined>((n, k) => (n ? entry(n, k)?.value : undefined), preset);
      if (!block || block.kind !== 'object') {
        this.diagnostics.push(diagnostic('E0203', ref.loc, `preset '${ref.value}' has no '${keys.join('.')}' block to use here`));
        continue;
      }
      base = merge(base, block);
    }
    return merge(base, { ...node, entries });
  }

  /** The expanded tree of the file a reference names, or undefined (with a diagnostic). */
  private follow(ref: Node & { kind: 'scalar' }, chain: string[]): Node | undefined {
    const name = String(ref.value);
    const abs = resolvePresetPath(name, chain[chain.length - 1]);
    if (!abs) {
      const hint = isPresetName(name) ? closest(name, stdlibPresets().keys()) : undefined;
      const what = isPresetName(name) ? `unknown stdlib preset '${name}'` : `no spec file '${name}'`;
      this.diagnostics.push(diagnostic('E0201', ref.loc, `${what}${suggestion(hint)}`, hint));
      return undefined;
    }
    if (chain.includes(abs)) {
      const cycle = [...chain.slice(chain.indexOf(abs)), abs].map(displayName).join(' → ');
      this.diagnostics.push(diagnostic('E0202', ref.loc, `reference cycle: ${cycle}`));
      return undefined;
    }
    const parsed = this.parse(abs);
    return parsed && this.expandFile(parsed.tree, [...chain, abs]);
  }

  private parse(abs: string): Parsed | undefined {
    if (this.parsed.has(abs)) return this.parsed.get(abs);
    const text = this.readText?.(abs);
    const found = text !== undefined ? { text, parsed: parseText(text, displayName(abs)) } : parseFromDisk(abs);
    const parsed = found?.parsed;
    if (found) this.files.set(displayName(abs), found.text);
    this.parsed.set(abs, parsed);
    if (parsed) this.diagnostics.push(...parsed.diagnostics);
    return parsed;
  }
}

/** The references of an `extends`/`use` value: one string or a list of strings. */
function refs(value: Node | undefined): (Node & { kind: 'scalar' })[] {
  if (!value || !refsOk(value)) return [];
  const all = value.kind === 'list' ? value.items : [value];
  return all.filter((n): n is Node & { kind: 'scalar' } => n.kind === 'scalar');
}

/** Whether a value has the form of references; any other form is left for the schema to report. */
function refsOk(value: Node): boolean {
  const isRef = (n: Node) => n.kind === 'scalar' && typeof n.value === 'string' && n.value.length > 0;
  return value.kind === 'list' ? value.items.every(isRef) : isRef(value);
}
