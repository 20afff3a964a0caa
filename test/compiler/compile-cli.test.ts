// `simclr-compile compile`: every example compiles, the output folder holds the WGSL, the kernel
// graph and a summary with planned against one-buffer-per-tensor memory, and a shape error points
// at the spec's line and column.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { KernelGraph } from '../../src/compiler/kernel-graph.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = { log: console.log, error: console.error, exitCode: process.exitCode };
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    process.exitCode = saved.exitCode;
  }
}

const examples = readdirSync('examples').filter((f) => /\.(simclr|ya?ml)$/.test(f));

test('there are examples to compile', () => {
  assert.ok(examples.length >= 3, examples.join(', '));
});

for (const example of examples) {
  test(`compile examples/${example}: WGSL, kernel graph and a summary with planned < one buffer per tensor`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simclr-compile-'));
    const { code, out, err } = await run(['compile', join('examples', example), '--out', dir, '--target', 'software', '--batch', '32']);
    assert.is(code, 0, err);
    const graph = JSON.parse(readFileSync(join(dir, 'kernel-graph.json'), 'utf8')) as Omit<KernelGraph, 'shaders'> & { shaders: string[] };
    const shaders = readdirSync(join(dir, 'kernels'));
    assert.is(shaders.length, graph.shaders.length);
    for (const s of shaders) assert.match(readFileSync(join(dir, 'kernels', s), 'utf8'), /@compute/);
    for (const k of graph.kernels) for (const d of k.dispatches) for (const b of d.buffers) assert.ok(graph.buffers[b].bytes > 0, `${k.label} binds buffer ${b}`);
    const { plannedBytes, naiveBytes } = graph.memory;
    assert.ok(plannedBytes < naiveBytes, `${plannedBytes} < ${naiveBytes}`);
    assert.match(out, `${(plannedBytes / 2 ** 20).toFixed(2)} MiB planned`);
    assert.match(out, `${(naiveBytes / 2 ** 20).toFixed(2)} MiB with one buffer per tensor`);
    assert.match(out, new RegExp(`kernels\\s+${graph.kernels.length} `));
  });
}

test('compile examples/mnist.simclr: augment kernels come first and make the views the encoder reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'simclr-compile-'));
  const { code, err } = await run(['compile', 'examples/mnist.simclr', '--out', dir, '--target', 'software', '--batch', '8']);
  assert.is(code, 0, err);
  const graph = JSON.parse(readFileSync(join(dir, 'kernel-graph.json'), 'utf8')) as KernelGraph;
  assert.equal([...new Set(graph.kernels.map((k) => k.stage))], ['augment', 'forward', 'backward', 'update']);
  const views = graph.outputs.views.buffer;
  const touching = graph.kernels.filter((k) => k.dispatches.some((d) => d.buffers.includes(views)));
  assert.is(touching[0].op, 'augment');
  assert.is(touching[0].stage, 'augment');
  assert.is(touching[1].stage, 'forward');
});

test('a linear layer on a 4-D input is reported at its line and column in the spec', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'simclr-compile-'));
  const spec = join(dir, 'bad.simclr');
  writeFileSync(spec, ['name: "bad"', 'data { source: synthetic, image_size: 8 }', 'encoder {', '  layers: [', '    conv { out: 4 },', '    linear { out: 8 },', '  ]', '}', ''].join('\n'));
  const { code, err } = await run(['compile', spec, '--out', join(dir, 'out'), '--target', 'software']);
  assert.is(code, 1);
  assert.match(err, `${spec}:6:5: error E0401: encoder.layers.1: linear: needs a 2-D (N,features) input`);
});

test('a step that cannot fit the memory budget is E0601 at train.memory_budget', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'simclr-compile-'));
  const spec = join(dir, 'tight.simclr');
  writeFileSync(spec, ['name: "tight"', 'data { source: synthetic, image_size: 8 }', 'train {', '  batch_size: 8', '  memory_budget: 1', '}', 'encoder { layers: [conv { out: 512 }, relu] }', ''].join('\n'));
  const { code, err } = await run(['compile', spec, '--out', join(dir, 'out'), '--target', 'software']);
  assert.is(code, 1);
  assert.match(err, `${spec}:5:18: error E0601: the step does not fit`);
  assert.match(err, 'Raise train.memory_budget to at least');
});

test.run();
