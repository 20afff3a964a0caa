// SimCLR v2 in the run on the tiny synthetic spec: pre-training, fine-tuning (with its from-scratch
// and linear-probe baselines), distillation into a half-width student; the phase folders, the
// summary, re-running one phase from the CLI with another label fraction, and bad teachers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** `run ARGS` killed (SIGKILL, nothing flushed) once its output shows `until`; resolves with what it printed. */
function killedAt(until: RegExp, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/simclr-compile.js', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const seen = (chunk: Buffer) => {
      text += chunk.toString();
      if (until.test(text)) child.kill('SIGKILL');
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(text) : reject(new Error(`the run ended (${code}) before ${until}:\n${text}`))));
  });
}

// Killed in the second of three epochs, each phase has its first epoch's checkpoint (written after
// the epoch's line, so the third epoch's line is the first a resume may print).
test('a run killed mid-finetune, then mid-distill, resumes in that phase with --resume', async () => {
  const killed = mkdtempSync(join(tmpdir(), 'simclr-v2-killed-'));
  const sets = [...V2, 'finetune.epochs=3', 'distill.epochs=3'].flatMap((s) => ['--set', s]);
  await killedAt(/finetune epoch 2\/3/, 'test/fixtures/tiny-run.simclr', '--out', killed, ...sets);
  assert.ok(existsSync(join(killed, 'finetune', 'checkpoint.safetensors')));
  assert.not.ok(existsSync(join(killed, 'finetune', 'result.json')), 'killed before the phase finished');
  const pretraining = () => readMetrics(join(killed, 'metrics.jsonl')).filter((r) => 'loss' in r).length;
  const steps = pretraining();
  const first = await killedAt(/distill epoch 2\/3/, '--resume', killed);
  assert.match(first, /finetune: resuming after epoch [12]\/3/);
  assert.not.match(first, /finetune epoch 1\/3/, 'fine-tuning continued, not restarted');
  assert.is(pretraining(), steps, 'pre-training was not run again');
  assert.ok(existsSync(join(killed, 'finetune', 'result.json')));
  assert.not.ok(existsSync(join(killed, 'distill', 'result.json')));
  const second = cli('run', '--resume', killed);
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stderr, /finetune: done earlier/);
  assert.match(second.stderr, /distill: resuming after epoch [12]\/3/);
  assert.not.match(second.stderr, /distill epoch 1\/3/);
  const summary = JSON.parse(readFileSync(join(killed, 'summary.json'), 'utf8'));
  assert.ok(summary.finetune.top1 >= 0 && summary.distill.top1 >= 0, JSON.stringify(summary));
  assert.equal(readMetrics(join(killed, 'distill', 'metrics.jsonl')).filter((r) => 'val_top1' in r).map((r) => r.epoch), [1, 2, 3], 'one validation record per epoch, none repeated');
});

// The student is the teacher's encoder at another width, so its input channels are the teacher's:
// a teacher run made for 3-channel images cannot teach on this run's 1-channel data.
test('a student whose input channels do not match the data is E0310 naming the teacher, with nothing written', () => {
  assert.ok(dir, 'needs the first test');
  const run = mkdtempSync(join(tmpdir(), 'simclr-v2-channels-'));
  cpSync(dir, run, { recursive: true });
  rmSync(join(run, 'distill'), { recursive: true });
  const teacher = mkdtempSync(join(tmpdir(), 'simclr-v2-rgb-'));
  cpSync(dir, teacher, { recursive: true });
  const s = JSON.parse(readFileSync(join(teacher, 'spec.json'), 'utf8'));
  s.encoder.in_channels = 3;
  s.data.channels = 3;
  for (const view of s.augment.views) for (const op of view) if (op.op === 'normalize') (op.mean = [op.mean[0], op.mean[0], op.mean[0]]), (op.std = [op.std[0], op.std[0], op.std[0]]);
  writeFileSync(join(teacher, 'spec.json'), JSON.stringify(s));
  const before = readFileSync(join(run, 'summary.json'), 'utf8');
  const r = cli('distill', run, '--set', `distill.teacher="${teacher}"`);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /E0310/);
  assert.match(r.stderr, /3 channels but the data has 1/);
  assert.ok(r.stderr.includes(teacher), r.stderr);
  assert.not.ok(existsSync(join(run, 'distill')), 'no distill folder half-written');
  assert.is(readFileSync(join(run, 'summary.json'), 'utf8'), before, 'summary.json untouched');
});

test('scaleWidth scales every conv and linear width, inside residual blocks too', () => {
  const layers = spec().encoder.layers;
  const half = scaleWidth(layers, 0.5);
  assert.equal(half.filter((l) => l.type === 'conv').map((l) => (l as { out: number }).out), [4, 4]);
});

test.run();
