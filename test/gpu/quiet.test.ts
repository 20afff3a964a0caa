// Dawn's start-up warnings about limits it lowers reach no user: the same command shows them with
// SIMCLR_DEBUG=1 (so this adapter does emit them and the test can fail) and not without it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const doctor = (env: Record<string, string> = {}) => {
  const run = spawnSync(process.execPath, ['bin/simclr-compile.js', 'doctor'], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.is(run.status, 0, run.stderr);
  return run.stdout + run.stderr;
};

test("doctor prints no Dawn start-up warning; SIMCLR_DEBUG shows what was hidden", () => {
  const debug = doctor({ SIMCLR_DEBUG: '1' });
  assert.match(debug, /artificially reduced/, 'lavapipe makes Dawn warn at start-up');
  const plain = doctor();
  assert.not.match(plain, /artificially reduced|^Warning:/m);
  assert.match(plain, /^adapter\s+\S/m, 'the report itself is still printed');
});

test.run();
