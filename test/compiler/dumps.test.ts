// Golden text dumps: for every example, the resolved spec, the training phase's graph before fusion
// and the kernel graph after it are checked in under test/golden/dumps/, so a review shows what a
// change did to the compiled program. `UPDATE_DUMPS=1 node scripts/test.js test/compiler/dumps.test.ts`
// rewrites them after an intended change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compile } from '../../src/compiler/compile.js';
import { formatKernels, formatSummary, summarize } from '../../src/compiler/output.js';
import { formatGraph } from '../../src/ir/print.js';
import { optimizerFor } from '../../src/ir/optimizer.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { formatDiagnostic, loadSpecFile } from '../../src/spec/index.js';

const DIR = join('test', 'golden', 'dumps');
const update = process.env.UPDATE_DUMPS === '1';

function dumps(file: string): Record<string, string> {
  const loaded = loadSpecFile(file);
  if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
  const spec = loaded.spec;
  const batch = spec.train.batch_size;
  const compiled = compile({ ...spec, optimizer: optimizerFor(spec.optimizer, batch) }, { target: SOFTWARE_TARGET, batch });
  const summary = formatSummary(summarize(compiled.graph, compiled.kernels), `${spec.name}: ${batch} images per view, software target`);
  return {
    'resolved.json': JSON.stringify(spec, null, 2) + '\n',
    'ir.txt': formatGraph(compiled.graph),
    'kernels.txt': `${summary}\n${formatKernels(compiled.kernels)}`,
  };
}

for (const name of readdirSync('examples').sort()) {
  test(`${name}: resolved spec, IR and kernel graph equal the checked-in dumps`, () => {
    for (const [kind, text] of Object.entries(dumps(join('examples', name)))) {
      const path = join(DIR, `${basename(name).replace(/\.(simclr|yml)$/, (_m, ext: string) => `.${ext}`)}.${kind}`);
      if (update) writeFileSync(path, text);
      assert.ok(existsSync(path), `${path} is missing: run with UPDATE_DUMPS=1 to write it`);
      const want = readFileSync(path, 'utf8');
      if (want !== text) {
        const a = want.split('\n');
        const b = text.split('\n');
        const line = a.findIndex((l, i) => l !== b[i]);
        assert.unreachable(`${path} differs at line ${line + 1}:\n  checked in: ${a[line]}\n  now:        ${b[line]}\n(UPDATE_DUMPS=1 rewrites the dumps after an intended change)`);
      }
    }
  });
}

test.run();
