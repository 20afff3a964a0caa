// The main job on a tiny synthetic spec: learning, exact resume, run-folder contents, bad checkpoints,
// a diverging loss, and the CLI's --set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode as encodePng } from 'fast-png';
import { loadSpecFile, type ResolvedSpec } from '../../src/spec/index.js';
import { readMetrics } from '../../src/train/metrics.js';
import { DivergedError, train } from '../../src/train/trainer.js';
import { CheckpointError, readCheckpoint, writeCheckpoint } from '../../src/train/checkpoint.js';

const SPEC = 'test/fixtures/tiny-run.simclr';
const quiet = { write: () => true };
const tmp = () => mkdtempSync(join(tmpdir(), 'simclr-run-'));

function spec(...set: string[]): ResolvedSpec {
  const loaded = loadSpecFile(SPEC, { set });
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  return loaded.spec!;
}

/** A progress stream that keeps what it was told. */
function capture() {
  let text = '';
  return { write: (chunk: string) => ((text += chunk), true), text: () => text };
}

const losses = (dir: string) => readMetrics(join(dir, 'metrics.jsonl')).filter((r) => 'loss' in r).map((r) => Number(r.loss));

let full: { dir: string; losses: number[] } | undefined;

test('the loss falls over two dozen steps, and the run folder holds what the docs promise', async () => {
  const dir = tmp();
  const result = await train(spec('eval.knn.every=2'), { out: dir, out_stream: quiet, jsonOut: quiet });
  const l = losses(dir);
  assert.is(l.length, 24);
  const first = (l[0] + l[1] + l[2] + l[3]) / 4;
  const last = (l[20] + l[21] + l[22] + l[23]) / 4;
  assert.ok(last < first - 0.1, `loss should fall: first four ${first.toFixed(3)}, last four ${last.toFixed(3)}`);
  // Collapse would give ln(2N − 1) = ln 31; a random start sits near it.
  assert.ok(Math.abs(first - Math.log(31)) < 0.6, `first loss ${first} should start near ln(31)`);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  for (const key of ['final_loss', 'images_per_s', 'wall_s', 'knn_top1', 'random_init_knn_top1', 'linear_top1', 'random_init_linear_top1']) {
    assert.type(summary[key], 'number', `summary.json ${key}`);
  }
  assert.is(summary.final_loss, result.final_loss);
  for (const key of ['knn_top1', 'random_init_knn_top1', 'linear_top1', 'random_init_linear_top1']) {
    assert.ok(summary[key] >= 0 && summary[key] <= 1, `${key} = ${summary[key]}`);
  }
  const record = readMetrics(join(dir, 'metrics.jsonl'))[5];
  for (const key of ['step', 'epoch', 'loss', 'lr', 'images_per_s', 'eta_s']) assert.type(record[key], 'number', `metrics ${key}`);
  for (const file of ['spec.json', 'checkpoint.safetensors', 'init.safetensors', 'curves.png', 'augs.png']) assert.ok(existsSync(join(dir, file)), file);
  const evaluations = readMetrics(join(dir, 'metrics.jsonl')).filter((r) => 'knn_top1' in r);
  assert.equal(evaluations.map((r) => r.epoch), [2, 4], 'kNN every 2 epochs, and at the end');
  assert.is(evaluations[1].knn_top1, summary.knn_top1);
  const curves = decode(readFileSync(join(dir, 'curves.png')));
  assert.is(curves.height, 900, 'loss, learning rate and evaluation panels');
  full = { dir, losses: l };
});

test('eval re-evaluates a finished run with overrides', () => {
  assert.ok(full, 'needs the first test');
  const run = spawnSync(process.execPath, ['bin/simclr-compile.js', 'eval', full.dir, '--set', 'eval.knn.k=3', '--set', 'eval.linear=false', '--json'], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
  for (const which of ['trained', 'random_init']) {
    assert.ok(result[which].knn_top1 >= 0 && result[which].knn_top1 <= 1, `${which} knn`);
    assert.is(result[which].linear_top1, undefined, 'the probe was switched off');
  }
  assert.match(run.stderr, /knn \(k=3\)/);
  assert.ok(existsSync(join(full.dir, 'eval.json')));
});

// The fixture warms up for 6 steps, then decays by a cosine: a resume at step 10 that restarted the
// schedule or the optimizer's step count (AdamW's bias corrections) changes every later loss, and
// one that lost weights or state the losses miss changes the final evaluation, compared here too.
test('stopping and resuming gives the same losses and final evaluation as the uninterrupted run', async () => {
  assert.ok(full, 'needs the first test');
  const dir = tmp();
  const stopped = await train(spec('eval.knn.every=2'), { out: dir, stopAfter: 10, out_stream: quiet, jsonOut: quiet });
  assert.is(stopped.status, 'stopped');
  assert.is(stopped.steps, 10);
  const resumed = await train(undefined, { resume: dir, out_stream: quiet, jsonOut: quiet });
  assert.is(resumed.status, 'finished');
  const l = losses(dir);
  assert.is(l.length, 24);
  l.forEach((x, i) => assert.ok(Math.abs(x - full!.losses[i]) <= 1e-6 * Math.abs(x), `step ${i + 1}: ${x} vs ${full!.losses[i]}`));
  const want = JSON.parse(readFileSync(join(full.dir, 'summary.json'), 'utf8'));
  assert.equal(resumed.trained, want.trained, 'final evaluation of the trained encoder');
  assert.equal(resumed.random_init, want.random_init, 'final evaluation at random init');
});

test('a run killed during its final evaluation resumes to evaluate, keeping its training figures', async () => {
  assert.ok(full, 'needs the first test');
  const dir = tmp();
  for (const file of ['spec.json', 'checkpoint.safetensors', 'init.safetensors', 'metrics.jsonl']) copyFileSync(join(full.dir, file), join(dir, file));
  // What the killed run left: every step logged, the final checkpoint, no final evaluation record.
  const kept = readMetrics(join(dir, 'metrics.jsonl')).filter((r) => 'loss' in r);
  writeFileSync(join(dir, 'metrics.jsonl'), kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const said = capture();
  const resumed = await train(undefined, { resume: dir, out_stream: said, jsonOut: quiet });
  const want = JSON.parse(readFileSync(join(full.dir, 'summary.json'), 'utf8'));
  assert.is(resumed.status, 'finished');
  assert.is(resumed.final_loss, want.final_loss);
  assert.is(resumed.images_per_s, Math.round(Number(kept[kept.length - 1].images_per_s) * 10) / 10);
  assert.ok(resumed.images_per_s > 0);
  assert.equal(resumed.trained, want.trained);
  assert.match(said.text(), /training done \(24 steps\), evaluating/);
  assert.not.match(said.text(), /steps 25/);
});

test('a corrupted latest checkpoint falls back to the previous one, with a warning, and the run ends the same', async () => {
  assert.ok(full, 'needs the first test');
  const dir = tmp();
  // Checkpoints every 8 steps: after a stop at 20 the latest is step 20's and the previous step 16's.
  await train(spec('eval.knn.every=2'), { out: dir, stopAfter: 20, out_stream: quiet, jsonOut: quiet });
  const path = join(dir, 'checkpoint.safetensors');
  assert.is(readCheckpoint(join(dir, 'checkpoint.previous.safetensors')).metadata.step, '16');
  const bytes = readFileSync(path);
  bytes[bytes.length - 5] ^= 0xff;
  writeFileSync(path, bytes);
  const said = capture();
  const resumed = await train(undefined, { resume: dir, out_stream: said, jsonOut: quiet });
  assert.match(said.text(), /warning: .*checkpoint\.safetensors: error E0509: .*checksum.*continuing from the previous checkpoint .*checkpoint\.previous\.safetensors \(step 16\)/);
  assert.is(resumed.status, 'finished');
  const l = losses(dir);
  assert.is(l.length, 24);
  l.forEach((x, i) => assert.ok(Math.abs(x - full!.losses[i]) <= 1e-6 * Math.abs(x), `step ${i + 1}: ${x} vs ${full!.losses[i]}`));
});

test('a checkpoint without a tensor the network needs is an error naming the file and the tensor, on resume and in eval', async () => {
  assert.ok(full, 'needs the first test');
  const dir = tmp();
  for (const file of ['spec.json', 'init.safetensors', 'metrics.jsonl']) copyFileSync(join(full.dir, file), join(dir, file));
  const checkpoint = readCheckpoint(join(full.dir, 'checkpoint.safetensors'));
  const name = 'encoder.layers.3.weight';
  assert.ok(checkpoint.tensors[name], `the fixture's network has ${name}`);
  checkpoint.tensors['encoder.layers.9.weight'] = checkpoint.tensors[name];
  delete checkpoint.tensors[name];
  const path = join(dir, 'checkpoint.safetensors');
  writeCheckpoint(path, checkpoint);
  try {
    await train(undefined, { resume: dir, out_stream: quiet, jsonOut: quiet });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, CheckpointError);
    assert.match((err as Error).message, `${path}: error E0502: has no tensor ${name}`);
  }
  const run = spawnSync(process.execPath, ['bin/simclr-compile.js', 'eval', dir], { encoding: 'utf8' });
  assert.is(run.status, 1);
  assert.match(run.stderr, `${path}: error E0502: has no tensor ${name}`);
});

test('a broken file of a run folder is a coded error naming it, never a crash inside the trainer', async () => {
  assert.ok(full, 'needs the first test');
  const dir = tmp();
  for (const file of ['spec.json', 'checkpoint.safetensors', 'init.safetensors', 'metrics.jsonl']) copyFileSync(join(full.dir, file), join(dir, file));
  const specPath = join(dir, 'spec.json');
  const good = JSON.parse(readFileSync(specPath, 'utf8'));
  const resume = () => spawnSync(process.execPath, ['bin/simclr-compile.js', 'run', '--resume', dir], { encoding: 'utf8' });
  for (const [broken, message] of [
    ['{"name": "tiny", "da', /spec\.json: error E0508: not JSON/],
    [JSON.stringify({ ...good, train: undefined }), /spec\.json: error E0508: not a resolved spec: train is missing/],
    [JSON.stringify({ ...good, optimizer: { ...good.optimizer, lr: 'fast' } }), /spec\.json: error E0508: not a valid resolved spec/],
  ] as const) {
    writeFileSync(specPath, broken);
    const run = resume();
    assert.is(run.status, 1, run.stderr);
    assert.match(run.stderr, message);
    assert.not.match(run.stderr, /Cannot read properties|internal error/);
  }
  writeFileSync(specPath, JSON.stringify(good));
  const metricsPath = join(dir, 'metrics.jsonl');
  writeFileSync(metricsPath, `${readFileSync(metricsPath, 'utf8')}[1, 2]\n{"step": 3}\n`);
  const run = resume();
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /metrics\.jsonl:\d+: error E0506: not a metrics record/);
  const empty = tmp();
  const none = spawnSync(process.execPath, ['bin/simclr-compile.js', 'run', '--resume', empty], { encoding: 'utf8' });
  assert.match(none.stderr, `${empty}: error E0501: not a run folder`);
});

test('resuming from a corrupted checkpoint is a clear error naming the file', async () => {
  const dir = tmp();
  await train(spec(), { out: dir, stopAfter: 2, out_stream: quiet, jsonOut: quiet });
  const path = join(dir, 'checkpoint.safetensors');
  const bytes = readFileSync(path);
  bytes[bytes.length - 5] ^= 0xff;
  writeFileSync(path, bytes);
  try {
    await train(undefined, { resume: dir, out_stream: quiet, jsonOut: quiet });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, CheckpointError);
    assert.match((err as Error).message, path);
  }
});

test('a diverging loss stops the run at its step and keeps the last good checkpoint', async () => {
  const dir = tmp();
  // Decay 1 at rate 100 multiplies every weight by −99 a step: they overflow within a few dozen steps.
  const s = spec('optimizer.type=sgd', 'optimizer.lr=100', 'optimizer.weight_decay=1', 'optimizer.lr_scaling=none', 'train.epochs=30', 'train.checkpoint_every=1');
  try {
    await train(s, { out: dir, out_stream: quiet, jsonOut: quiet });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, DivergedError);
    const step = (err as DivergedError).step;
    assert.match((err as Error).message, `non-finite at step ${step}`);
    const kept = readCheckpoint(join(dir, 'checkpoint.safetensors'));
    assert.ok(Number(kept.metadata.step) < step && Number(kept.metadata.step) >= step - 2, `kept checkpoint of step ${kept.metadata.step}, diverged at ${step}`);
    for (const [name, t] of Object.entries(kept.tensors)) assert.ok(t.data.every(Number.isFinite), `${name} is finite`);
  }
});

// An image folder without train/ and test/ used to serve its images as both splits, silently; and
// pre-training on the test split went unremarked. Both are said at the start, the split in summary.json.
test('a run over an image folder without splits says its held-out split; pre-training on the test split warns', async () => {
  const folder = tmp();
  for (const [c, cls] of ['a', 'b'].entries()) {
    for (let i = 0; i < 10; i++) {
      const data = Uint8Array.from({ length: 144 }, (_, p) => ((p % 12) * 20 * (c + 1) + i * 7) & 255);
      mkdirSync(join(folder, cls), { recursive: true });
      writeFileSync(join(folder, cls, `${i}.png`), encodePng({ width: 12, height: 12, data, channels: 1 }));
    }
  }
  const dir = tmp();
  const said = capture();
  const s = spec('data.source=image-folder', `data.path=${JSON.stringify(folder)}`, 'data.split=test', 'train.batch_size=4', 'train.epochs=1', 'eval.linear=false');
  const result = await train(s, { out: dir, out_stream: said, jsonOut: quiet });
  assert.match(said.text(), /warning: data\.split is test: pre-training on the evaluation images/);
  assert.match(said.text(), /has no train\/ and test\/ sub-folders: 4 of its 20 images \(20% of each class, seeded\) are held out for evaluation, 16 train/);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.held_out, { train: 16, test: 4 });
  assert.equal([result.trained?.train_count, result.trained?.test_count], [16, 4], 'the kNN bank and its queries share no image');
});

test('a chunked run says so in its first lines, with BatchNorm’s per-chunk caveat and the cost, and summary.json records it', async () => {
  const dir = tmp();
  const said = capture();
  const s = spec('train.chunk=6', 'train.epochs=1', 'eval.linear=false');
  const result = await train(s, { out: dir, out_stream: said, jsonOut: quiet });
  const first = said.text().split('\n').findIndex((l) => l.startsWith('chunked '));
  const training = said.text().split('\n').findIndex((l) => l.startsWith('training '));
  assert.ok(first >= 0 && first < training, said.text());
  assert.match(said.text(), /chunked 16 images per view into 3 chunks of ≤6 as train\.chunk asks: exact InfoNCE over all 32 rows, 2 extra forward passes per step \(\+\d+% FLOPs\), peak [\d.]+ MiB; BatchNorm normalises per chunk/);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.chunking, result.chunking);
  assert.is(summary.chunking.chunks, 3);
  assert.is(summary.chunking.extra_forwards, 2);
  assert.ok(summary.chunking.recompute_flops > 0 && summary.chunking.recompute_flops < summary.chunking.step_flops);
  assert.ok(Number.isFinite(result.final_loss));
});

test('the CLI runs a spec with --set overrides and prints the summary as JSON', () => {
  const dir = tmp();
  const run = spawnSync(process.execPath, ['bin/simclr-compile.js', 'run', SPEC, '--set', 'train.epochs=1', '--out', dir, '--json'], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const summary = lines[lines.length - 1];
  // 96 synthetic images at batch 16: one epoch is six steps.
  assert.is(summary.total_steps, 6);
  assert.is(lines.length, 7, 'six step lines and the summary');
  assert.ok(existsSync(join(dir, 'report.html')), 'run writes the report after training');
});

test('Ctrl-C finishes the step, writes a checkpoint and exits with 130', async () => {
  const dir = tmp();
  const child = spawn(process.execPath, ['bin/simclr-compile.js', 'run', SPEC, '--set', 'train.epochs=50', '--out', dir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Interrupt once the first step has been logged: training is under way.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.is(code, 130, stderr);
  assert.match(stderr, /interrupted after step \d+; checkpoint written/);
  const kept = readCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.ok(Number(kept.metadata.step) >= 1 && Number(kept.metadata.step) < 300, `checkpoint of step ${kept.metadata.step}`);
  assert.not.ok(existsSync(join(dir, 'summary.json')), 'no summary for an unfinished run');
});

test.run();
