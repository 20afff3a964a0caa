// The schema is the one definition of the spec's fields: every field documented, numbers bounded,
// defaults valid against their own field, and src/spec/types.ts generated from it and current.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from './expect.js';

type S = Record<string, any>;
const schema: S = JSON.parse(readFileSync(join(packageRoot, 'grammar/simclr.schema.json'), 'utf8'));
const deref = (s: S): S => (s.$ref ? schema.definitions[s.$ref.split('/').pop()] : s);

/** Every named field of the schema, with its dotted place. */
function fields(s: S, where: string, out: [string, S][] = [], seen = new Set<S>()): [string, S][] {
  s = deref(s);
  if (seen.has(s)) return out;
  seen.add(s);
  for (const [k, sub] of Object.entries<S>(s.properties ?? {})) {
    out.push([`${where}.${k}`, sub]);
    fields(sub, `${where}.${k}`, out, seen);
  }
  for (const alt of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) fields(alt, where, out, seen);
  if (s.items && !Array.isArray(s.items)) fields(s.items, `${where}[]`, out, seen);
  return out;
}

test('draft-07, and ajv compiles it in strict mode', () => {
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const ajv = new Ajv({ strict: true, strictTypes: false, discriminator: true });
  ajv.addVocabulary(['x-resolved', 'x-input-only', 'x-default']);
  ajv.compile(schema);
});

test('every field has a description; numbers have ranges; defaults satisfy their field', () => {
  const all = fields(schema, 'spec');
  assert.ok(all.length > 80, `${all.length} fields`);
  const ajv = new Ajv({ strict: false, discriminator: true });
  for (const [where, raw] of all) {
    const s = deref(raw);
    assert.ok(raw.description ?? s.description, `${where} has a description`);
    if (s.type === 'number' || s.type === 'integer') {
      assert.ok(s.minimum !== undefined || s.exclusiveMinimum !== undefined, `${where} has a lower bound`);
      assert.ok(s.maximum !== undefined || s.exclusiveMaximum !== undefined, `${where} has an upper bound`);
    }
    if (s.default !== undefined) {
      const { default: def, description: _d, ...rule } = s;
      assert.ok(ajv.validate({ ...rule, definitions: schema.definitions }, def), `${where}: default ${JSON.stringify(def)} is valid`);
    }
  }
});

test('src/spec/types.ts is generated from the current schema', () => {
  const run = spawnSync(process.execPath, [join(packageRoot, 'scripts/gen-spec-types.js'), '--check'], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
});

test.run();
