// The adapter's limits as recorded for `check` and the language server: the runtime writes them on
// opening the adapter, and a record that is missing, broken or of another shape reads as none.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knownTarget, knownTargetFile, rememberTarget } from '../../src/gpu/known-target.js';
import { runtime } from '../../src/gpu/runtime.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';

test('GPU: opening the adapter records its target', async () => {
  const rt = await runtime();
  assert.equal(knownTarget()?.target, rt.target);
  assert.match(knownTarget()!.description, rt.gpu.adapter.isSoftware ? /software/ : /hardware/);
});

test('a record round-trips; a missing, broken or shapeless one is none', () => {
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'simclr-known-'));
  try {
    assert.is(knownTarget(), undefined);
    const small = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 1 << 20 };
    rememberTarget(small, 'a small adapter');
    assert.equal(knownTarget(), { target: small, description: 'a small adapter' });
    writeFileSync(knownTargetFile(), '{"target": {"maxStorageBufferBindingSize": "big"}}');
    assert.is(knownTarget(), undefined);
    writeFileSync(knownTargetFile(), '{not json');
    assert.is(knownTarget(), undefined);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test.run();
