// SimCLR v2 in the run on the tiny synthetic spec: pre-training, fine-tuning (with its from-scratch
// and linear-probe baselines), distillation into a half-width student; the phase folders, the
// summary, re-running one phase from the CLI with another label fraction, and bad teachers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpecFile, type ResolvedSpec } from '../../src/spec/index.js';
import { readMetrics } from '../../src/train/metrics.js';
import { train } from '../../src/train/trainer.js';
import { scaleWidth } from '../../src/train/v2.js';

const quiet = { write: () => true };
const V2 = ['data.limit=300', 'train.epochs=1', 'eval.knn=false', 'finetune.label_fraction=0.2', 'finetune.epochs=2', 'finetune.batch_size=16', 'finetune.lr=0.05', 'distill.epochs=1', 'distill.batch_size=32', 'distill.student.width=0.5'];

function spec(...set: string[]): ResolvedSpec {
  const loaded = loadSpecFile('test/fixtures/tiny-run.simclr', { set });
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  return loaded.spec!;
}

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/simclr-compile.js', ...args], { encoding: 'utf8' });
let dir: string | undefined;

test('a run with finetune and distill sections trains both phases, each in its own folder', async () => {
  dir = mkdtempSync(join(tmpdir(), 'simclr-v2-'));
  const result = await train(spec(...V2), { out: dir, out_stream: quiet, jsonOut: quiet });
  const f = result.finetune!;
  const d = result.distill!;
  // 300 images less the 30 held out for validation; a fifth of 270 over 10 classes is 5 a class.
  assert.is(f.labelled_images, 50);
  assert.is(f.label_fraction, 0.2);
  for (const x of [f.top1, f.scratch_top1, f.linear_top1, f.val_top1, d.top1, d.teacher_top1, d.agreement]) assert.ok(x >= 0 && x <= 1, String(x));
  assert.ok(d.student_params < d.teacher_params / 2, `a half-width student has under half the parameters: ${d.student_params} vs ${d.teacher_params}`);
  for (const phase of ['finetune', 'finetune-scratch', 'distill']) {
    for (const file of ['checkpoint.safetensors', 'best.safetensors', 'metrics.jsonl', 'curves.png', 'result.json']) assert.ok(existsSync(join(dir, phase, file)), `${phase}/${file}`);
  }
  const val = readMetrics(join(dir, 'finetune', 'metrics.jsonl')).filter((r) => 'val_top1' in r);
  assert.equal(val.map((r) => r.epoch), [1, 2], 'validation accuracy every epoch');
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.finetune, f);
  assert.equal(summary.distill, d);
});

test('the finetune command re-runs the phase with another label fraction; the same settings are reused', () => {
  assert.ok(dir, 'needs the first test');
  const again = cli('finetune', dir, '--json');
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stderr, /done earlier/);
  const other = cli('finetune', dir, '--set', 'finetune.label_fraction=0.4', '--json');
  assert.is(other.status, 0, other.stderr);
  const part = JSON.parse(other.stdout.trim().split('\n').pop()!);
  assert.is(part.finetune.labelled_images, 100);
  assert.is(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).finetune.labelled_images, 100);
});

test('a teacher that is not a run folder or a checkpoint is E0310 naming it', () => {
  assert.ok(dir, 'needs the first test');
  const missing = cli('distill', dir, '--set', 'distill.teacher="/nowhere/teacher"');
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /E0310.*\/nowhere\/teacher|\/nowhere\/teacher.*E0310/);
  const notRun = cli('distill', dir, '--set', `distill.teacher="${tmpdir()}"`);
  assert.match(notRun.stderr, /E0310.*not a run folder/);
  const junk = join(dir, 'junk.safetensors');
  writeFileSync(junk, 'not a checkpoint');
  const bad = cli('distill', dir, '--set', `distill.teacher="${junk}"`);
  assert.match(bad.stderr, /E0310.*not a checkpoint/);
});

test('scaleWidth scales every conv and linear width, inside residual blocks too', () => {
  const layers = spec().encoder.layers;
  const half = scaleWidth(layers, 0.5);
  assert.equal(half.filter((l) => l.type === 'conv').map((l) => (l as { out: number }).out), [4, 4]);
});

test.run();
