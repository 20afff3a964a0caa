// Every GPU program is an op's: WGSL lives in src/kernels/ and nowhere else, so each kernel has its
// float64 reference beside it and runs through the one executor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

test('no file outside src/kernels/ declares a WGSL entry point', () => {
  const files = readdirSync('src', { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50, `${files.length} source files found`);
  const outside = files.filter((f) => !f.startsWith(`kernels/`) && /@compute/.test(readFileSync(join('src', f), 'utf8')));
  assert.equal(outside, [], `WGSL outside src/kernels: ${outside.join(', ')}`);
  assert.ok(files.some((f) => f.startsWith('kernels/') && /@compute/.test(readFileSync(join('src', f), 'utf8'))), 'the kernels are found where they belong');
});

test.run();
