// Writes src/spec/types.ts from grammar/simclr.schema.json, so the schema stays the one definition of
// the spec's fields. The types describe the *resolved* spec: a field is present when the schema
// requires it, gives it a default, or names it in `x-resolved` (filled by the resolver without a
// fixed default); `use`, `extends` and `x-input-only` fields never survive resolution and are left out.
// `node scripts/gen-spec-types.js` writes the file; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const schemaFile = new URL('grammar/simclr.schema.json', root);
const typesFile = new URL('src/spec/types.ts', root);

export function generateTypes(schema) {
  const named = new Map();
  const deref = (s) => (s.$ref ? schema.definitions[s.$ref.split('/').pop()] : s);

  function typeOf(s, indent) {
    s = deref(s);
    if (s.title && s !== schema && !named.has(s.title)) {
      named.set(s.title, null);
      named.set(s.title, declare(s));
    }
    if (s.title && s !== schema) return s.title;
    return inline(s, indent);
  }

  function inline(s, indent) {
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    const alternatives = s.oneOf ?? s.anyOf;
    if (alternatives) return alternatives.map((a) => typeOf(a, indent)).join(' | ');
    switch (s.type) {
      case 'integer':
      case 'number':
        return 'number';
      case 'string':
        return 'string';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const item = typeOf(s.items, indent);
        const wrapped = item.includes('|') ? `(${item})` : item;
        if (s.minItems === s.maxItems && s.minItems <= 4) return `[${Array(s.minItems).fill(item).join(', ')}]`;
        return `${wrapped}[]`;
      }
      case 'object':
        return body(s, indent);
    }
    throw new Error(`no TypeScript type for schema ${JSON.stringify(s).slice(0, 80)}`);
  }

  function body(s, indent) {
    const pad = '  '.repeat(indent + 1);
    const present = new Set([...(s.required ?? []), ...(s['x-resolved'] ?? [])]);
    const skip = new Set(['use', 'extends', ...(s['x-input-only'] ?? [])]);
    const lines = Object.entries(s.properties ?? {})
      .filter(([k]) => !skip.has(k))
      .map(([k, p]) => {
        const optional = present.has(k) || deref(p).default !== undefined || p.default !== undefined ? '' : '?';
        const doc = p.description ?? deref(p).description;
        return `${doc ? `${pad}/** ${doc.replace(/\*\//g, '* /')} */\n` : ''}${pad}${k}${optional}: ${typeOf(p, indent + 1)};`;
      });
    return `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
  }

  function declare(s) {
    const doc = s.description ? `/** ${s.description} */\n` : '';
    if (s.oneOf || s.anyOf) return `${doc}export type ${s.title} = ${inline(s, 0)};`;
    return `${doc}export interface ${s.title} ${body(s, 0)}`;
  }

  const top = `/** ${schema.description} */\nexport interface ${schema.title} ${body(schema, 0)}`;
  const header =
    '// Generated from grammar/simclr.schema.json by scripts/gen-spec-types.js: edit the schema, then run\n' +
    '// `node scripts/gen-spec-types.js`. These are the types of the resolved spec (every default filled).\n';
  return `${header}\n${[top, ...named.values()].join('\n\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = generateTypes(JSON.parse(readFileSync(schemaFile, 'utf8')));
  if (process.argv.includes('--check')) {
    const current = readFileSync(typesFile, 'utf8');
    if (current !== text) {
      console.error('src/spec/types.ts is out of date: run node scripts/gen-spec-types.js');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(typesFile, text);
  }
}
