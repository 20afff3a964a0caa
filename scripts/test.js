// Runs every compiled test file under uvu and closes with the plain line CI reads:
// "N passed, N failed". A file may be named on the command line to run it alone.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = 'build/test';
const only = process.argv.slice(2);
const files = only.length
  ? only.map((f) => join(root, f.replace(/^test\//, '').replace(/\.ts$/, '.js')))
  : readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.js'))
      .sort()
      .map((f) => join(root, f));

let passed = 0;
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = (run.stdout ?? '') + (run.stderr ?? '');
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // A file that crashed before uvu reported counts as one failure, never as zero tests.
  const bad = run.status !== 0 && total === ok ? 1 : total - ok - skipped;
  passed += ok;
  failed += bad;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${bad ? 'FAIL' : 'ok  '} ${file} (${ok} passed, ${bad} failed, ${secs}s)`);
  if (bad) console.log(out.split('\n').map((l) => '    ' + l).join('\n'));
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed || passed === 0 ? 1 : 0;
