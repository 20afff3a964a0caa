// Validates a spec object against grammar/simclr.schema.json with ajv and turns each error into a
// positioned diagnostic: ajv's instance path is walked through the located tree to the key or value
// at fault. Misspelt keys and enum values get a "did you mean".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import type { Code } from './codes.js';
import { closest, suggestion } from './did-you-mean.js';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { packageRoot } from './references.js';
import { toPlain, walk, type Node, type SpecPath } from './tree.js';

export const schema = JSON.parse(readFileSync(join(packageRoot, 'grammar', 'simclr.schema.json'), 'utf8'));

const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true, strictTypes: false });
ajv.addVocabulary(['x-resolved', 'x-input-only', 'x-default']);
const validate = ajv.compile(schema);

/** `plain` is `toPlain(tree)`, given when the caller has it already. */
export function schemaDiagnostics(tree: Node, opts: { skipRequired?: boolean; plain?: unknown } = {}): Diagnostic[] {
  if (validate(opts.plain ?? toPlain(tree))) return [];
  const errors = pickAlternatives(validate.errors ?? []);
  const out: Diagnostic[] = [];
  for (const err of errors) {
    if (opts.skipRequired && err.keyword === 'required') continue;
    const d = toDiagnostic(err, tree);
    if (d) out.push(d);
  }
  return out;
}

/** `/encoder/layers/3/out` → ['encoder', 'layers', 3, 'out']. */
export function pointerToPath(pointer: string): SpecPath {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `encoder.layers[3].out`. */
export function showPath(path: SpecPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') || 'the spec';
}

/**
 * For `anyOf`/`oneOf`, ajv lists every alternative's errors. Keep those of the alternative whose
 * type fits the value; when none fits, keep only the anyOf error itself (reported as a type error).
 */
function pickAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const group of errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')) {
    const prefix = `${group.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const fits = (list: ErrorObject[]) => !list.some((e) => e.instancePath === group.instancePath && ['type', 'const', 'enum'].includes(e.keyword));
    const chosen = [...branches.values()].find(fits);
    for (const list of branches.values()) if (list !== chosen) list.forEach((e) => drop.add(e));
    if (chosen) drop.add(group);
  }
  return errors.filter((e) => !drop.has(e));
}

function toDiagnostic(err: ErrorObject, tree: Node): Diagnostic | undefined {
  const path = pointerToPath(err.instancePath);
  const at = walk(tree, path);
  const where = showPath(path);
  const valueLoc = at.node.loc;
  const p = err.params as Record<string, any>;
  const report = (code: Code, message: string, loc = valueLoc, hint?: string) => diagnostic(code, loc, message, hint);
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const hint = closest(key, Object.keys(err.parentSchema?.properties ?? {}));
      const keyLoc = walk(tree, [...path, key]).entry?.keyLoc ?? valueLoc;
      return report('E0102', `unknown key '${key}' in ${path.length ? where : 'the spec'}${suggestion(hint)}`, keyLoc, hint);
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const hint = typeof err.data === 'string' ? closest(err.data, allowed) : undefined;
      return report('E0103', `${show(err.data)} is not a valid ${where}: expected ${allowed.join(', ')}${suggestion(hint)}`, valueLoc, hint);
    }
    case 'discriminator': {
      const tag = String(p.tag);
      if (p.error === 'tag') return report('E0105', `missing required field '${tag}' in ${where}`, valueLoc);
      const names: string[] = (err.parentSchema?.oneOf ?? []).map((s: any) => s.properties?.[tag]?.const).filter(Boolean);
      const value = String(p.tagValue);
      const hint = closest(value, names);
      const tagLoc = walk(tree, [...path, tag]).node.loc;
      return report('E0103', `unknown ${tag === 'op' ? 'augment op' : 'type'} '${value}' in ${where}: expected ${names.join(', ')}${suggestion(hint)}`, tagLoc, hint);
    }
    case 'const':
      return report('E0103', `${show(err.data)} is not allowed for ${where}: expected ${show(p.allowedValue)}`);
    case 'type':
      return report('E0101', `${where} must be ${article(String(p.type))}, found ${show(err.data)}`);
    case 'anyOf':
    case 'oneOf': {
      const kinds = (err.schema as any[]).map((s: any) => (s.const !== undefined ? show(s.const) : article(s.type)));
      return report('E0101', `${where} must be ${kinds.join(' or ')}, found ${show(err.data)}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return report('E0104', `${where} must be ${p.comparison} ${p.limit}, found ${show(err.data)}`);
    case 'required': {
      const field = String(p.missingProperty);
      const start = at.entry?.keyLoc ?? { ...valueLoc, range: { start: valueLoc.range.start, end: valueLoc.range.start } };
      return report('E0105', `missing required field '${field}' in ${where}`, start);
    }
    case 'minItems':
    case 'maxItems':
      return report('E0106', `${where} must have ${err.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} item${p.limit === 1 ? '' : 's'}, found ${Array.isArray(err.data) ? err.data.length : 0}`);
    case 'minLength':
      return report('E0106', `${where} must not be empty`);
    default:
      return report('E0106', `${where} ${err.message ?? 'is invalid'}`);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a block';
  return String(value);
}

function article(type: string): string {
  return { integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'a block' }[type] ?? type;
}
