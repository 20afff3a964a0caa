// An f16 run stopped and resumed from its checkpoint is the uninterrupted run: the loss scale and
// its clean-step count travel in the checkpoint, so the resumed steps see the same scale, skip the
// same steps and give the same losses. A resume that restarted the scale at 2^16 or the count at 0
// would differ in the logged scale or in the count at the end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOSS_SCALE, LOSS_SCALE_NAMES } from '../../src/ir/loss-scale.js';
import { loadSpecFile, type ResolvedSpec } from '../../src/spec/index.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { readMetrics } from '../../src/train/metrics.js';
import { train } from '../../src/train/trainer.js';

const quiet = { write: () => true };
const tmp = () => mkdtempSync(join(tmpdir(), 'simclr-f16-resume-'));

function spec(): ResolvedSpec {
  // The tiny run of run.test.ts in f16, with its evaluation cut to a kNN at the end (this test is about training).
  const loaded = loadSpecFile('test/fixtures/tiny-run.simclr', { set: ['train.precision=f16', 'eval.linear=false'] });
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  return loaded.spec!;
}

const logged = (dir: string) => readMetrics(join(dir, 'metrics.jsonl')).filter((r) => 'loss' in r);
const scalerState = (dir: string) => {
  const { tensors } = readCheckpoint(join(dir, 'checkpoint.safetensors'));
  return [tensors[LOSS_SCALE_NAMES.scale].data[0], tensors[LOSS_SCALE_NAMES.clean].data[0]];
};

test('an f16 run resumed from its checkpoint keeps the loss scale and gives the uninterrupted losses', async () => {
  const fullDir = tmp();
  const full = await train(spec(), { out: fullDir, out_stream: quiet, jsonOut: quiet });
  assert.is(full.status, 'finished');
  const want = logged(fullDir);
  assert.is(want.length, 24);
  for (const r of want) assert.type(r.loss_scale, 'number', 'an f16 run logs its scale every line');

  const dir = tmp();
  const stopped = await train(spec(), { out: dir, stopAfter: 10, out_stream: quiet, jsonOut: quiet });
  assert.is(stopped.status, 'stopped');
  // The checkpoint at the stop holds the scaler's state after step 10: the scale logged at step 10,
  // and a clean count of the steps since the scale last moved (10 when nothing was skipped).
  const [scale10, clean10] = scalerState(dir);
  assert.is(scale10, want[9].loss_scale);
  const skippedBy10 = want.slice(0, 10).reduce((s, r) => s + Number(r.skipped_steps), 0);
  if (skippedBy10 === 0) assert.is(clean10, 10);
  assert.ok(clean10 >= 0 && clean10 <= 10 && scale10 <= LOSS_SCALE.init, `scale ${scale10}, clean ${clean10}`);

  const resumed = await train(undefined, { resume: dir, out_stream: quiet, jsonOut: quiet });
  assert.is(resumed.status, 'finished');
  const got = logged(dir);
  assert.is(got.length, 24);
  got.forEach((r, i) => {
    const [x, y] = [Number(r.loss), Number(want[i].loss)];
    // Bit-identical kernels on the same inputs: only the float rounding of the JSON line may differ.
    assert.ok(x === y || Math.abs(x - y) <= 1e-6 * Math.abs(y), `step ${i + 1}: loss ${x} vs ${y}`);
    assert.is(r.loss_scale, want[i].loss_scale, `step ${i + 1}: loss scale`);
    assert.is(r.skipped_steps, want[i].skipped_steps, `step ${i + 1}: skipped steps`);
  });
  assert.equal(scalerState(dir), scalerState(fullDir), 'scale and clean-step count at the end');
  assert.is(resumed.final_loss, full.final_loss);
  assert.equal(resumed.trained, full.trained, 'final kNN of the trained encoder');
});

test.run();
