// The spec commands as a user runs them: `node bin/simclr-compile.js check|print|fmt ...`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSpecFile } from '../../src/spec/index.js';
import { ALIAS_BOMB } from '../helpers/hostile.js';
import { packageRoot } from './expect.js';

// A spec command that runs past 30 s has hung: it is killed and its test fails.
const cli = (...args: string[]) => cliWith(process.env, ...args);
const cliWith = (env: NodeJS.ProcessEnv, ...args: string[]) => {
  const run = spawnSync(process.execPath, [join(packageRoot, 'bin/simclr-compile.js'), ...args], { cwd: packageRoot, encoding: 'utf8', timeout: 30_000, env });
  return { code: run.status, out: run.stdout, err: run.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'simclr-cli-'));

/** An environment whose cache folder records an adapter with `binding` bytes a binding and twice that a buffer. */
function recordedAdapter(binding: number): NodeJS.ProcessEnv {
  const cache = mkdtempSync(join(tmpdir(), 'simclr-cache-'));
  mkdirSync(join(cache, 'simclr-compile'));
  const target = { isSoftware: true, hasF16: false, maxWorkgroupInvocations: 256, maxStorageBufferBindingSize: binding, maxWorkgroupsPerDimension: 65535, maxBufferSize: 2 * binding };
  writeFileSync(join(cache, 'simclr-compile', 'adapter-limits.json'), JSON.stringify({ description: 'a small test adapter', target }));
  return { ...process.env, XDG_CACHE_HOME: cache };
}

test('check: clean specs exit 0', () => {
  const r = cli('check', 'examples/mnist.simclr', 'examples/fashion-mnist.yml');
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /2 specs ok/);
});

test('check: every error as file:line:col, exit 1', () => {
  const bad = join(dir, 'bad.simclr');
  writeFileSync(bad, 'loss {\n  temprature: 0.1\n}\noptimizer { type: lasr }\n');
  const r = cli('check', bad);
  assert.is(r.code, 1);
  assert.ok(r.out.includes(`${bad}:2:3: error E0102: unknown key 'temprature' in loss; did you mean 'temperature'?`), r.out);
  assert.ok(r.out.includes(`${bad}:4:19: error E0103:`), r.out);
  assert.match(r.out, /2 errors, 0 warnings/);
});

test('check: a linear layer after a conv without flatten is E0401 at the layer, and no stack', () => {
  const spec = join(dir, 'shape.simclr');
  writeFileSync(spec, 'encoder {\n  layers: [\n    conv { out: 4 },\n    linear { out: 8 },\n  ]\n}\n');
  const r = cli('check', spec);
  assert.is(r.code, 1);
  assert.ok(r.out.includes(`${spec}:4:5: error E0401: encoder.layers.1: linear: needs a 2-D (N,features) input`), r.out);
  assert.match(r.out, /1 error, 0 warnings/);
  assert.not.match(r.out + r.err, /\n\s+at /);
});

test('check: against the recorded adapter, a batch that cannot fit in chunks is E0601 at train.batch_size, naming one that does', () => {
  const env = recordedAdapter(4 * 2 ** 20);
  const r = cliWith(env, 'check', 'examples/mnist.simclr', '--set', 'train.batch_size=4096');
  assert.is(r.code, 1, r.out + r.err);
  const line = /^--set train\.batch_size=4096:1:18: error E0601: the step does not fit .*The largest train\.batch_size that fits is (?:about )?(\d+)\..*\(limits of a small test adapter\)$/m.exec(r.out);
  assert.ok(line, r.out);
  const fits = cliWith(env, 'check', 'examples/mnist.simclr', '--set', `train.batch_size=${line![1]}`);
  assert.is(fits.code, 0, fits.out + fits.err);
});

test('check: a train.chunk over the recorded adapter is E0602 at train.chunk', () => {
  const spec = join(dir, 'chunk.simclr');
  writeFileSync(spec, 'name: "chunked"\ntrain {\n  batch_size: 256\n  chunk: 128\n}\n');
  const r = cliWith(recordedAdapter(32 * 2 ** 20), 'check', spec);
  assert.is(r.code, 1, r.out + r.err);
  const at = readFileSync(spec, 'utf8').split('\n').findIndex((l) => l.includes('chunk: 128')) + 1;
  assert.ok(r.out.includes(`${spec}:${at}:`) && /error E0602: train\.chunk 128 does not fit the device.*The largest train\.chunk that fits is \d+/.test(r.out), r.out);
  // A data-parallel step is compiled per process, unchunked: the whole-batch step is not judged.
  const parallel = cliWith(recordedAdapter(32 * 2 ** 20), 'check', spec, '--set', 'train.devices=2');
  assert.ok(!parallel.out.includes('E0602'), parallel.out);
});

test('check: an alias bomb is refused at the alias, not expanded', () => {
  const bomb = join(dir, 'bomb.yml');
  writeFileSync(bomb, ALIAS_BOMB);
  const r = cli('check', bomb);
  assert.is(r.code, 1, r.out + r.err);
  assert.ok(r.out.includes(`${bomb}:4:45: error E0007: aliases bring in more than 10000 values`), r.out);
});

test('check --set: an override that breaks the spec fails', () => {
  const r = cli('check', 'examples/mnist.simclr', '--set', 'loss.temperature=0.2', '--set', 'train.batch_size=1');
  assert.is(r.code, 1);
  assert.match(r.out, /^--set train\.batch_size=1:1:18: error E0104: train\.batch_size must be >= 2, found 1$/m);
});

test('--set of train.steps or train.epochs replaces the other of the pair', () => {
  const epochs = join(dir, 'epochs.simclr');
  const steps = join(dir, 'steps.simclr');
  writeFileSync(epochs, 'train { batch_size: 64  epochs: 3 }\n');
  writeFileSync(steps, 'train { batch_size: 64  steps: 30 }\n');
  const toSteps = cli('print', epochs, '--resolved', '--json', '--set', 'train.steps=12');
  assert.is(toSteps.code, 0, toSteps.out + toSteps.err);
  assert.equal([JSON.parse(toSteps.out).train.steps, JSON.parse(toSteps.out).train.epochs], [12, undefined]);
  const toEpochs = cli('print', steps, '--resolved', '--json', '--set', 'train.epochs=2');
  assert.is(toEpochs.code, 0, toEpochs.out + toEpochs.err);
  assert.equal([JSON.parse(toEpochs.out).train.epochs, JSON.parse(toEpochs.out).train.steps], [2, undefined]);
});

test('print --resolved --json: the resolved spec, with --set applied', () => {
  const r = cli('print', 'examples/mnist.simclr', '--resolved', '--json', '--set', 'train.batch_size=64');
  assert.is(r.code, 0, r.err);
  const spec = JSON.parse(r.out);
  assert.is(spec.train.batch_size, 64);
  assert.is(spec.augment.views.length, 2);
  const plain = loadSpecFile(join(packageRoot, 'examples/mnist.simclr'), { set: ['train.batch_size=64'] }).spec;
  assert.equal(spec, plain);
});

test('fmt --to yaml --write, then fmt back: the same resolved spec', () => {
  const src = join(dir, 'conv.simclr');
  writeFileSync(src, readFileSync(join(packageRoot, 'examples/simclr-v2.simclr'), 'utf8').replace(/use (\w+)/g, 'use "stdlib/$1"').replace(/"stdlib\/xresnet18"/, '"stdlib/encoders/xresnet18"').replace(/"stdlib\/small_convnet"/, '"stdlib/encoders/small_convnet"').replace(/"stdlib\/simclr_v2"/, '"stdlib/heads/simclr_v2"').replace(/"stdlib\/simclr_cifar"/, '"stdlib/augment/simclr_cifar"'));
  const toYaml = cli('fmt', src, '--to', 'yaml', '--write');
  assert.is(toYaml.code, 0, toYaml.err);
  const yml = readFileSync(join(dir, 'conv.yml'), 'utf8');
  assert.ok(yml.startsWith('# yaml-language-server: $schema='), yml);
  const back = cli('fmt', join(dir, 'conv.yml'), '--to', 'simclr');
  assert.is(back.code, 0, back.err);
  writeFileSync(join(dir, 'back.simclr'), back.out);
  assert.equal(loadSpecFile(join(dir, 'back.simclr')).spec, loadSpecFile(src).spec);
  assert.ok(loadSpecFile(src).spec);
});

test('fmt of a spec with errors prints them and exits 1', () => {
  const bad = join(dir, 'bad2.simclr');
  writeFileSync(bad, 'data { source: }\n');
  const r = cli('fmt', bad);
  assert.is(r.code, 1);
  assert.match(r.err, /bad2\.simclr:1:16: error E0003/);
});

test('--help for the commands that read a spec', () => {
  for (const cmd of ['check', 'print']) {
    const r = cli(cmd, '--help');
    assert.is(r.code, 0);
    assert.match(r.out, /--set <key\.path=value>/);
  }
});

test.run();
