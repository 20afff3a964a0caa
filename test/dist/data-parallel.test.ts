// Data-parallel training end to end: the same spec on one process and on two (mpirun on this host)
// trains the same network, a run resumes across process counts, a spec the job cannot run is a coded
// error, and a killed process stops the job with the last checkpoint intact. MPI missing is a
// failure naming the fix (requireMpi), never a skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collectives } from '../../src/dist/collectives.js';
import { runtime } from '../../src/gpu/runtime.js';
import { optimizerFor } from '../../src/ir/optimizer.js';
import { loadSpecFile, type ResolvedSpec } from '../../src/spec/index.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { dataParallelEngine, localBatch } from '../../src/train/data-parallel.js';
import { readMetrics } from '../../src/train/metrics.js';
import { train } from '../../src/train/trainer.js';
import { compile } from '../../src/compiler/compile.js';
import { requireMpi } from './mpi-run.js';

const SPEC = 'test/fixtures/tiny-dp.simclr';
/** The same run with BatchNorm in the encoder and the projector. */
const BN_SPEC = 'test/fixtures/tiny-dp-bn.simclr';
const BIN = 'bin/simclr-compile.js';
const quiet = { write: () => true };
const tmp = () => mkdtempSync(join(tmpdir(), 'simclr-dp-'));
const losses = (dir: string) => readMetrics(join(dir, 'metrics.jsonl')).filter((r) => 'loss' in r).map((r) => Number(r.loss));

function spec(...set: string[]): ResolvedSpec {
  return specOf(SPEC, ...set);
}

function specOf(file: string, ...set: string[]): ResolvedSpec {
  const loaded = loadSpecFile(file, { set });
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  return loaded.spec!;
}

/** `simclr-compile run …` on two processes of this host (`--devices 2` unless the args ask for them); its output when it fails. */
function runOnTwo(...args: string[]): void {
  requireMpi();
  const asked = args.includes('train.devices=2') ? [] : ['--devices', '2'];
  const run = spawnSync(process.execPath, [BIN, 'run', ...args, ...asked], { encoding: 'utf8', timeout: 240_000 });
  assert.is(run.status, 0, `run --devices 2 exited ${run.status ?? run.signal}\n${run.stdout}\n${run.stderr}`);
}

function assertClose(a: number[], b: number[], tolerance: number, what: string): void {
  assert.is(a.length, b.length, `${what}: ${a.length} values against ${b.length}`);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tolerance, `${what}[${i}]: ${x} against ${b[i]}`));
}

/** Largest difference between two checkpoints' tensors of the same names. */
function largestDifference(a: string, b: string): number {
  const [x, y] = [readCheckpoint(a).tensors, readCheckpoint(b).tensors];
  assert.equal(Object.keys(x).sort(), Object.keys(y).sort());
  let most = 0;
  for (const [name, t] of Object.entries(x)) t.data.forEach((v, i) => (most = Math.max(most, Math.abs(v - y[name].data[i]))));
  return most;
}

let single: { dir: string; losses: number[] } | undefined;
async function singleRun() {
  if (!single) {
    const dir = tmp();
    await train(spec(), { out: dir, out_stream: quiet, jsonOut: quiet });
    single = { dir, losses: losses(dir) };
  }
  return single;
}

test('one process and two give the same losses for 6 steps and the same weights after them', async () => {
  const one = await singleRun();
  const dir = tmp();
  // The spec's own train.devices starts the job, as --devices does.
  runOnTwo(SPEC, '--out', dir, '--set', 'train.devices=2');
  assert.is(one.losses.length, 6);
  assertClose(losses(dir), one.losses, 1e-5, 'loss');
  const moved = largestDifference(join(one.dir, 'init.safetensors'), join(one.dir, 'checkpoint.safetensors'));
  assert.ok(moved > 1e-2, `the weights moved only ${moved} in 6 steps: equal weights would prove nothing`);
  // Both started from the same weights, and six updates later they still agree.
  assert.is(largestDifference(join(one.dir, 'init.safetensors'), join(dir, 'init.safetensors')), 0);
  const apart = largestDifference(join(one.dir, 'checkpoint.safetensors'), join(dir, 'checkpoint.safetensors'));
  assert.ok(apart <= 1e-5, `weights after 6 steps differ by ${apart}`);
});

test('sync BatchNorm: one process and two give the same losses for 6 steps and the same weights and running statistics after them', async () => {
  const one = tmp();
  await train(specOf(BN_SPEC), { out: one, out_stream: quiet, jsonOut: quiet });
  const two = tmp();
  runOnTwo(BN_SPEC, '--out', two);
  assert.is(losses(one).length, 6);
  assertClose(losses(two), losses(one), 1e-5, 'loss');
  const names = Object.keys(readCheckpoint(join(one, 'checkpoint.safetensors')).tensors);
  assert.ok(names.some((n) => n.endsWith('.running_var')) && names.some((n) => n.startsWith('encoder.') && n.endsWith('.running_mean')), names.join(' '));
  assert.ok(largestDifference(join(one, 'init.safetensors'), join(one, 'checkpoint.safetensors')) > 1e-2);
  const apart = largestDifference(join(one, 'checkpoint.safetensors'), join(two, 'checkpoint.safetensors'));
  assert.ok(apart <= 1e-5, `weights and running statistics after 6 steps differ by ${apart}`);
  // Each process normalising by its own 4 images is a different step: the test above can fail.
  const own = tmp();
  runOnTwo(BN_SPEC, '--out', own, '--set', 'train.sync_batchnorm=false', '--set', 'train.steps=2');
  assert.ok(Math.abs(losses(own)[1] - losses(one)[1]) > 1e-4, `per-process statistics gave the loss ${losses(own)[1]} of sync BatchNorm`);
});

test('a run stopped on two processes resumes on one, and one stopped on one resumes on two', async () => {
  const one = await singleRun();
  const fromTwo = tmp();
  runOnTwo(SPEC, '--out', fromTwo, '--stop-after', '3');
  assert.is(losses(fromTwo).length, 3);
  await train(undefined, { resume: fromTwo, out_stream: quiet, jsonOut: quiet });
  assertClose(losses(fromTwo), one.losses, 1e-5, '2 → 1 loss');
  const fromOne = tmp();
  await train(spec(), { out: fromOne, stopAfter: 3, out_stream: quiet, jsonOut: quiet });
  runOnTwo('--resume', fromOne);
  assertClose(losses(fromOne), one.losses, 1e-5, '1 → 2 loss');
  assert.ok(largestDifference(join(one.dir, 'checkpoint.safetensors'), join(fromOne, 'checkpoint.safetensors')) <= 1e-5);
});

test('E0409: a global batch that does not split over the processes; sync BatchNorm splits its kernels unless turned off', async () => {
  assert.is(localBatch(8, 2), 4);
  assert.throws(() => localBatch(8, 3), /E0409 train.batch_size 8 does not split evenly over 3 processes/);
  const rt = await runtime();
  // Rank 0 of two: making the step calls no collective, so none is needed here.
  const two = { rank: 0, size: 2, localRank: 0 } as unknown as Collectives;
  const attempt = async (s: ResolvedSpec) => {
    const stepSpec = { ...s, optimizer: optimizerFor(s.optimizer, s.train.batch_size) };
    return dataParallelEngine(rt, s, stepSpec, compile(stepSpec, { target: rt.target }), two);
  };
  // On by default: per BatchNorm, two forward all-reduces (Σx, Σ(x − mean)²) and one backward (Σ∂y, Σ∂y·x̂), C floats each.
  const synced = await attempt(spec('projector.batchnorm=true'));
  assert.is(synced.communication.batchnorm_bytes, 4 * 16 * 4);
  synced.destroy();
  const engine = await attempt(spec('projector.batchnorm=true', 'train.sync_batchnorm=false'));
  assert.ok(engine.persistentNames.some((n) => n.endsWith('.running_mean')));
  assert.is(engine.communication.batchnorm_bytes, 0);
  engine.destroy();
});

test('one process killed with -9: the other stops within seconds, the message names it, the last checkpoint is intact', async () => {
  requireMpi();
  const dir = tmp();
  const child = spawn(process.execPath, [BIN, 'run', SPEC, '--out', dir, '--json', '--devices', '2', '--set', 'train.steps=2000', '--set', 'train.checkpoint_every=4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  try {
    const started = Date.now();
    while (!/"step":9,/.test(output)) {
      assert.ok(Date.now() - started < 120_000, `no tenth step within 120 s\n${output}`);
      assert.is(child.exitCode, null, `the job ended early\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const victim = rankPid(1);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const result = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.ok(result !== 'timeout', `the job still ran 10 s after process 1 was killed\n${output}`);
    assert.ok(result.code !== 0, `the launcher exited ${result.code}`);
    assert.ok(result.at - killedAt < 10_000);
    // mpirun's own message (Open MPI 4.1 prints the pid as 0 for a process it did not start through a daemon).
    assert.match(output, /process rank 1 with PID \d+ on node \S+ exited on signal 9/, `the message names the killed process\n${output.slice(-3000)}`);
    const checkpoint = readCheckpoint(join(dir, 'checkpoint.safetensors'));
    const step = Number(checkpoint.metadata.step);
    assert.ok(step >= 8 && step % 4 === 0, `the checkpoint holds step ${step}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('Ctrl-C on the launcher: every process finishes the same step and exits 130, rank 0 with a whole checkpoint of it', async () => {
  requireMpi();
  const dir = tmp();
  const child = spawn(process.execPath, [BIN, 'run', SPEC, '--out', dir, '--json', '--devices', '2', '--set', 'train.steps=2000', '--set', 'train.checkpoint_every=1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const started = Date.now();
    while (!/"step":2,/.test(output)) {
      assert.ok(Date.now() - started < 120_000, `no third step within 120 s\n${output}`);
      assert.is(child.exitCode, null, `the job ended early\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // What a terminal's Ctrl-C sends the launcher (mpirun runs in its own process group).
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
    assert.ok(code !== 'timeout', `the job still ran 60 s after Ctrl-C\n${output}`);
    assert.is(code, 130, output.slice(-3000));
    const step = Number(/interrupted after step (\d+); checkpoint written/.exec(output)?.[1]);
    assert.ok(step >= 3, `rank 0 says where it stopped\n${output.slice(-3000)}`);
    assert.match(output, /process 1: interrupted with the job/);
    assert.match(output, /Exit code:\s+130/);
    // The checkpoint is of that very step (not the last periodic one), whole; nothing half-written is left.
    assert.is(Number(readCheckpoint(join(dir, 'checkpoint.safetensors')).metadata.step), step);
    assert.is(losses(dir).length, step);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

/** The pid of the job's process of this rank: a node process whose environment Open MPI gave that rank. */
function rankPid(rank: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(`OMPI_COMM_WORLD_RANK=${rank}`) && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(SPEC)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  throw new Error(`no process of rank ${rank} found`);
}

test.run();
