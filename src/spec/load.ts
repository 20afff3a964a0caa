// The front end in one function: text → located tree → presets expanded → `--set` applied →
// schema-checked → defaults filled → semantic checks. It never throws: a half-typed spec (the
// language server calls this on every keystroke) gives diagnostics and, when error-free, a spec.
import { readFileSync } from 'node:fs';
import { collectComments, type Comments } from './comments.js';
import { diagnostic, hasErrors, pointRange, sortDiagnostics, type Diagnostic, type Loc } from './diagnostic.js';
import { resolveDefaults } from './defaults.js';
import { applyOverrides } from './overrides.js';
import { parseText, Resolver, type ReadText } from './resolve.js';
import { schemaDiagnostics } from './schema.js';
import { semanticDiagnostics } from './semantic.js';
import { entry, merge, toPlain, walk, type Node, type Plain, type SpecPath } from './tree.js';
import { CODES, type Code } from './codes.js';
import type { ResolvedSpec } from './types.js';

export interface LoadOptions {
  /** `key.path=value` overrides, applied in order after presets and before validation. */
  set?: string[];
  /** Reads referenced files (absolute paths) from somewhere other than the disk, e.g. an editor's buffers. */
  readText?: ReadText;
}

/** Where every part of the merged spec came from, and the text of each file that took part. */
export interface SpecSources {
  tree: Node;
  files: Map<string, string>;
}

export interface LoadResult {
  /** The resolved spec; absent when there are errors. */
  spec?: ResolvedSpec;
  /** The file's own spec object as written (`extends` and `use` kept, `--set` applied): what `fmt` prints. */
  input?: Plain;
  diagnostics: Diagnostic[];
  sources: SpecSources;
}

/** The comments of a spec's text, tied to its fields, for `formatSpec` to keep. */
export function specComments(text: string, fileName: string): Comments {
  const yaml = /\.ya?ml$/i.test(fileName);
  return collectComments(text, parseText(text, fileName).tree, yaml);
}

/** Presets a spec gets when it leaves a section's main content out. */
const IMPLICIT_PRESETS: { section: string; unless: string[]; preset: string }[] = [
  { section: 'encoder', unless: ['layers'], preset: 'small_convnet' },
  { section: 'augment', unless: ['ops', 'views'], preset: 'self_supervised' },
];

export function loadSpecText(text: string, fileName: string, opts: LoadOptions = {}): LoadResult {
  const empty: Node = { kind: 'object', loc: { file: fileName, range: pointRange(1, 1, 0) }, entries: [] };
  const files = new Map([[fileName, text]]);
  try {
    const parsed = parseText(text, fileName);
    const resolver = new Resolver(opts.readText);
    let tree = resolver.expandRoot(parsed.tree, fileName);
    tree = withImplicitPresets(tree, resolver, fileName);
    const diagnostics = [...parsed.diagnostics, ...resolver.diagnostics];
    tree = applyOverrides(tree, opts.set ?? [], diagnostics);
    for (const [f, t] of resolver.files) files.set(f, t);
    const sources: SpecSources = { tree, files };
    const plain = toPlain(tree) as Record<string, Plain>;
    diagnostics.push(...afterUnclosed(schemaDiagnostics(tree, { skipRequired: hasErrors(diagnostics), plain }), diagnostics));
    // The overrides also land in the file's own spec, so `fmt --set` prints them (their diagnostics
    // were reported above, against the merged spec).
    const input = toPlain(applyOverrides(parsed.tree, opts.set ?? [], []));
    if (hasErrors(diagnostics)) return { input, diagnostics: sortDiagnostics(diagnostics), sources };
    const spec = resolveDefaults(plain);
    diagnostics.push(...semanticDiagnostics(spec, (path) => sourceRange(sources, path)));
    return { spec: hasErrors(diagnostics) ? undefined : spec, input, diagnostics: sortDiagnostics(diagnostics), sources };
  } catch (err) {
    const message = `internal error: ${(err as Error)?.message ?? String(err)}`;
    return { diagnostics: [diagnostic('E0000', empty.loc, message)], sources: { tree: empty, files } };
  }
}

export function loadSpecFile(path: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = opts.readText?.(path) ?? readFileSync(path, 'utf8');
  } catch (err) {
    const loc: Loc = { file: path, range: pointRange(1, 1, 0) };
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return { diagnostics: [diagnostic('E0201', loc, `cannot read ${path}: ${reason}`)], sources: { tree: { kind: 'object', loc, entries: [] }, files: new Map() } };
  }
  return loadSpecText(text, path, opts);
}

/**
 * Where the value at a resolved-spec path was written: ['encoder', 'layers', 3, 'out'] → its file and
 * range. A value filled by a default points at the nearest block that holds it; the two views of
 * `augment.ops` point at the one shared list.
 */
export function sourceRange(sources: SpecSources, path: SpecPath): Loc {
  const found = walk(sources.tree, path);
  if (found.depth < path.length && path[0] === 'augment' && path[1] === 'views') {
    const shared = walk(sources.tree, ['augment', 'ops', ...path.slice(3)]);
    if (shared.depth > 2) return shared.node.loc;
  }
  return found.node.loc;
}

/** An error a later stage throws about the spec: its catalogue code, and the field that caused it. */
export interface SpecError extends Error {
  code: Code;
  specPath?: SpecPath;
}

/** Whether `err` is one of the later stages' coded errors (shape, augmentation, data). */
export function isSpecError(err: unknown): err is SpecError {
  return err instanceof Error && typeof (err as SpecError).code === 'string' && (err as SpecError).code in CODES;
}

/** A later stage's error as a diagnostic at the field that caused it (the file's start without one). */
export function specErrorDiagnostic(err: SpecError, sources: SpecSources): Diagnostic {
  const loc = err.specPath ? sourceRange(sources, err.specPath) : sources.tree.loc;
  return diagnostic(err.code, loc, err.message);
}

const CUTS = new Set(['E0004', 'E0006', 'E0007', 'E0008']);

/**
 * Past a '{' that is never closed, every later key lands inside that block, and past a YAML syntax
 * error the structure is a guess: the schema would call each later key unknown. Past the nesting
 * limit or the alias budget the parser left contents out, which the schema would call missing. The
 * first of these is the one message there.
 */
function afterUnclosed(found: Diagnostic[], syntax: Diagnostic[]): Diagnostic[] {
  const cut = new Map<string, Diagnostic['range']['start']>();
  for (const d of syntax) if (CUTS.has(d.code) && !cut.has(d.file)) cut.set(d.file, d.range.start);
  return found.filter((d) => {
    const at = cut.get(d.file);
    return !at || d.range.start.line < at.line || (d.range.start.line === at.line && d.range.start.column < at.column);
  });
}

function withImplicitPresets(tree: Node, resolver: Resolver, fileName: string): Node {
  let result = tree;
  for (const { section, unless, preset } of IMPLICIT_PRESETS) {
    const block = entry(tree, section)?.value;
    if (block && (block.kind !== 'object' || unless.some((k) => entry(block, k)))) continue;
    const loc = block?.loc ?? tree.loc;
    const ref: Node = { kind: 'scalar', loc, value: preset };
    const request: Node = { kind: 'object', loc, entries: [{ key: section, keyLoc: loc, value: { kind: 'object', loc, entries: [{ key: 'use', keyLoc: loc, value: ref }] } }] };
    result = merge(resolver.expandRoot(request, fileName), result);
  }
  return result;
}
