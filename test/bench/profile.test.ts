// `profile`: one row per kernel of the compiled step, carrying that kernel's stage and FLOPs, timed
// by the adapter's timestamps, beside the whole step; the JSON output is what the command prints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileStep } from '../../src/bench/profile.js';
import { compilePhase } from '../../src/compiler/compile.js';
import { runtime } from '../../src/gpu/runtime.js';
import { optimizerFor } from '../../src/ir/optimizer.js';
import { pretrainPhase } from '../../src/ir/phases.js';
import { formatDiagnostic, loadSpecText } from '../../src/spec/index.js';

const SPEC = `name: "profile-tiny"
data { source: synthetic, image_size: 8, channels: 1 }
augment { size: 8 }
encoder { in_channels: 1, pool: avg, layers: [conv { out: 4 }, batchnorm, relu, maxpool] }
projector { hidden: 8, out: 4, layers: 2 }
train { batch_size: 4, steps: 1 }
`;

test('every kernel of the compiled step gets a row with its own stage and FLOPs, and the step its time', async () => {
  const loaded = loadSpecText(SPEC, 'profile-tiny.simclr');
  if (!loaded.spec) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
  const rt = await runtime();
  const p = await profileStep(rt, loaded.spec, 4, 2);
  const { kernels } = compilePhase(pretrainPhase({ ...loaded.spec, optimizer: optimizerFor(loaded.spec.optimizer, 4) }, 4), rt.target);
  assert.equal(p.kernels.map((r) => [r.kernel, r.stage, r.flops]), kernels.kernels.map((k) => [k.label, k.stage, k.flops]));
  assert.is(p.method, 'timestamp-query', 'lavapipe stamps compute passes');
  for (const r of p.kernels) assert.ok(r.ms >= 0 && Number.isFinite(r.gflops) && Number.isFinite(r.gbps), JSON.stringify(r));
  assert.ok(p.step_ms > 0 && p.kernel_sum_ms > 0, `step ${p.step_ms} ms, kernels ${p.kernel_sum_ms} ms`);
  assert.ok(p.roof.gflops > 0 && p.roof.gbps > 0, JSON.stringify(p.roof));
  // Measured holds every planned buffer (each at least its planned size) plus the dispatches'
  // uniforms and the loss's read-back buffer: at least the plan, and not much more at this size.
  assert.is(p.planned_bytes, kernels.memory.plannedBytes);
  assert.ok(p.measured_peak_bytes >= p.planned_bytes && p.measured_peak_bytes <= p.planned_bytes + (1 << 20), `measured ${p.measured_peak_bytes} B for planned ${p.planned_bytes} B`);
});

test('profile --json prints one object per kernel, then the step', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'profile-')), 'tiny.simclr');
  writeFileSync(file, SPEC);
  const run = spawnSync(process.execPath, ['bin/simclr-compile.js', 'profile', file, '--repeats', '1', '--json'], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const last = rows.pop();
  assert.ok(last.step_ms > 0 && last.roof.gflops > 0, JSON.stringify(last));
  assert.ok(last.precision === 'f32' && last.measured_peak_bytes >= last.planned_bytes && last.planned_bytes > 0, JSON.stringify(last));
  assert.ok(rows.length > 5 && rows.every((r) => typeof r.kernel === 'string' && typeof r.ms === 'number'), `${rows.length} kernel rows`);
  assert.ok(new Set(rows.map((r) => r.stage)).has('backward'));
});

test.run();
