// Reads what an editor needs out of grammar/simclr.schema.json: which keys a block may hold, their
// descriptions, defaults and allowed values. The schema is walked as data (draft-07 `$ref`, `allOf`,
// `oneOf`/`anyOf`, `if`/`then`/`else`, `items`), so completion and hover can never drift from it.

export type Schema = { [key: string]: any };
export type SpecPath = (string | number)[];

export interface FieldDoc {
  name: string;
  schema: Schema;
  description?: string;
  default?: unknown;
  /** Allowed literal values: `enum`, `const` alternatives and booleans. */
  values: unknown[];
  type?: string;
}

export class SchemaDocs {
  constructor(private readonly root: Schema) {}

  /** Every concrete schema a value at `path` may have to satisfy (alternatives flattened). */
  at(path: SpecPath): Schema[] {
    let current = this.expand(this.root);
    for (const step of path) {
      const next: Schema[] = [];
      for (const schema of current) next.push(...this.child(schema, step));
      current = dedupe(next.flatMap((s) => this.expand(s)));
      if (!current.length) break;
    }
    return current;
  }

  /**
   * The alternatives at `path` that a tagged block's tag selects (`{ key: 'type', value: 'conv' }`
   * keeps the schemas whose `type` allows `conv`); all of them when no tag or none matches.
   */
  tagged(path: SpecPath, tag?: { key: string; value: string }): Schema[] {
    const all = this.at(path);
    if (!tag) return all;
    const matching = all.filter((s) => {
      const discriminator = s.properties?.[tag.key];
      return discriminator && this.expand(discriminator).some((d) => d.const === tag.value || (d.enum ?? []).includes(tag.value));
    });
    return matching.length ? matching : all;
  }

  /** The values a tag may take at `path` (the discriminator's `const`s and `enum`s), in schema order. */
  tags(path: SpecPath, key: string): FieldDoc[] {
    const out = new Map<string, FieldDoc>();
    for (const schema of this.at(path)) {
      const discriminator = schema.properties?.[key];
      if (!discriminator) continue;
      for (const d of this.expand(discriminator)) {
        for (const value of d.const !== undefined ? [d.const] : (d.enum ?? [])) {
          if (typeof value === 'string' && !out.has(value)) {
            // A `const` tag picks one alternative, which describes it; an `enum` tag is one field among many.
            const description = d.const !== undefined ? (schema.description ?? d.description) : (d.description ?? schema.description);
            out.set(value, { name: value, schema, description, values: [], type: 'object' });
          }
        }
      }
    }
    return [...out.values()];
  }

  /** The keys an object at `path` may hold, each once, in schema order. */
  fields(path: SpecPath, tag?: { key: string; value: string }): FieldDoc[] {
    const seen = new Map<string, Schema[]>();
    for (const schema of this.tagged(path, tag)) {
      for (const [name, sub] of Object.entries<Schema>(schema.properties ?? {})) {
        seen.set(name, [...(seen.get(name) ?? []), sub]);
      }
    }
    return [...seen].map(([name, subs]) => this.describe(name, subs));
  }

  /** The documentation of the value at `path` (its last step names it). */
  field(path: SpecPath, tag?: { key: string; value: string }): FieldDoc | undefined {
    if (!path.length) return undefined;
    const parents = this.tagged(path.slice(0, -1), tag);
    const last = path[path.length - 1];
    const subs = parents.flatMap((p) => this.child(p, last));
    return subs.length ? this.describe(String(last), subs) : undefined;
  }

  private describe(name: string, subs: Schema[]): FieldDoc {
    const expanded = dedupe(subs.flatMap((s) => this.expand(s)));
    const all = [...subs.map((s) => this.deref(s)), ...expanded];
    const pick = <K extends string>(key: K) => all.find((s) => s[key] !== undefined)?.[key];
    const values = new Set<unknown>();
    for (const s of expanded) {
      for (const v of s.enum ?? []) values.add(v);
      if (s.const !== undefined) values.add(s.const);
      if (s.type === 'boolean') {
        values.add(true);
        values.add(false);
      }
    }
    const types = [...new Set(expanded.map((s) => s.type).filter((t) => typeof t === 'string'))];
    return {
      name,
      schema: expanded.length === 1 ? expanded[0] : { anyOf: expanded },
      description: pick('description'),
      default: pick('default'),
      values: [...values],
      type: types.length ? types.join(' | ') : undefined,
    };
  }

  /** The schemas of `step` inside one concrete schema. */
  private child(schema: Schema, step: string | number): Schema[] {
    if (typeof step === 'number' || /^\d+$/.test(step)) {
      const index = Number(step);
      if (Array.isArray(schema.items)) {
        const item = schema.items[index] ?? schema.additionalItems;
        return item && typeof item === 'object' ? [item] : [];
      }
      if (schema.items && typeof schema.items === 'object') return [schema.items];
      if (typeof step === 'number') return [];
    }
    const key = String(step);
    if (schema.properties?.[key]) return [schema.properties[key]];
    for (const [pattern, sub] of Object.entries<Schema>(schema.patternProperties ?? {})) {
      if (new RegExp(pattern, 'u').test(key)) return [sub];
    }
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') return [schema.additionalProperties];
    return [];
  }

  /** One schema's concrete alternatives: references followed, compositions merged or flattened. */
  private expand(schema: Schema, depth = 0): Schema[] {
    if (depth > 32 || typeof schema !== 'object' || schema === null) return [];
    const s = this.deref(schema);
    const alternatives = [...(s.oneOf ?? []), ...(s.anyOf ?? [])];
    const conditional = [s.then, s.else].filter((x) => x && typeof x === 'object');
    const base: Schema = { ...s };
    delete base.oneOf;
    delete base.anyOf;
    delete base.if;
    delete base.then;
    delete base.else;
    let merged: Schema[] = [base];
    for (const part of s.allOf ?? []) {
      merged = merged.flatMap((m) => this.expand(part, depth + 1).map((p) => mergeSchemas(m, p)));
    }
    if (conditional.length) merged = merged.map((m) => conditional.reduce((acc: Schema, c) => mergeProperties(acc, this.deref(c)), m));
    if (!alternatives.length) return merged;
    return merged.flatMap((m) => alternatives.flatMap((alt: Schema) => this.expand(alt, depth + 1).map((a) => mergeSchemas(m, a))));
  }

  private deref(schema: Schema): Schema {
    let s = schema;
    for (let hops = 0; s && typeof s.$ref === 'string' && hops < 32; hops++) {
      const { $ref, ...rest } = s;
      const target = resolvePointer(this.root, $ref);
      if (!target) return rest;
      s = { ...target, ...withoutUndefined(rest) };
    }
    return s ?? {};
  }
}

function resolvePointer(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: any = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = node?.[key];
  }
  return node && typeof node === 'object' ? node : undefined;
}

function mergeSchemas(a: Schema, b: Schema): Schema {
  const out: Schema = { ...a, ...withoutUndefined(b) };
  if (a.properties || b.properties) out.properties = { ...a.properties, ...b.properties };
  if (a.description && b.description) out.description = b.description;
  return out;
}

/** `then`/`else` branches add keys, they never replace the base's documentation. */
function mergeProperties(a: Schema, b: Schema): Schema {
  if (!b.properties) return a;
  const properties = { ...a.properties };
  for (const [k, v] of Object.entries(b.properties)) properties[k] ??= v;
  return { ...a, properties };
}

function withoutUndefined(s: Schema): Schema {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

function dedupe(list: Schema[]): Schema[] {
  return [...new Set(list)];
}
