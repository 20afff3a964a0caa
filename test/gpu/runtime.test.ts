import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runtime, GpuError, align4, uniformWords } from '../../src/gpu/runtime.js';
import { compileOp } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';

const axpy = /* wgsl */ `
struct P { n: u32, a: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { y[id.x] = p.a * x[id.x] + y[id.x]; }
}`;

test('an adapter is found and a kernel computes what the CPU computes', async () => {
  const rt = await runtime();
  const n = 1001;
  const x = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);
  const y = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const bx = rt.upload(x);
  const by = rt.upload(y);
  const pipeline = await rt.pipeline(axpy, 'axpy');
  rt.dispatch({ pipeline, bindings: [rt.uniform([n, 3], ['u32', 'f32']), bx, by], groups: [Math.ceil(n / 64)] });
  rt.dispatch({ pipeline, bindings: [rt.uniform([n, -1], ['u32', 'f32']), bx, by], groups: [Math.ceil(n / 64)] });
  const out = await rt.readF32(by, n);
  for (let i = 0; i < n; i++) {
    const want = y[i] + 2 * x[i];
    assert.ok(Math.abs(out[i] - want) <= 1e-6 * (1 + Math.abs(want)), `element ${i}: ${out[i]} vs ${want}`);
  }
});

test('the pipeline cache returns one pipeline per source', async () => {
  const rt = await runtime();
  const a = await rt.pipeline(axpy, 'axpy');
  const b = await rt.pipeline(axpy, 'axpy again');
  assert.is(a, b);
});

test('a WGSL error is raised with the shader message and numbered source', async () => {
  const rt = await runtime();
  try {
    await rt.pipeline('fn main( {', 'broken');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, GpuError);
    assert.match((err as Error).message, /kernel broken does not compile/);
    assert.match((err as Error).message, /1  fn main\( \{/);
  }
});

test('a validation error during a step surfaces at the next read', async () => {
  const rt = await runtime();
  const small = rt.buffer(16);
  rt.write(small, new Float32Array(8));
  try {
    await rt.sync();
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, GpuError);
    assert.match((err as Error).message, /does not fit/);
  }
});

test('a binding the kernel never reads may still be passed', async () => {
  const rt = await runtime();
  const pipeline = await rt.pipeline(
    `@group(0) @binding(0) var<storage, read> unused: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = 7.0; }`,
    'unused binding',
  );
  const y = rt.buffer(4);
  rt.dispatch({ pipeline, bindings: [rt.buffer(4), y], groups: [1] });
  assert.is((await rt.readF32(y, 1))[0], 7);
});

test('measured memory: an executor adds exactly the bytes of the buffers it creates, and destroy gives them back', async () => {
  const rt = await runtime();
  // A shape that is not a multiple of 4 elements or 16 bytes, and an op whose dispatch has params.
  const graph = compileOp('matmul', [[7, 13], [13, 5]], {}, rt.target);
  let want = 0;
  for (const b of graph.buffers) want += b.kind === 'step' ? Math.max(16, Math.ceil(b.bytes / 16) * 16) : align4(Math.max(b.bytes, 4));
  for (const k of graph.kernels) for (const d of k.dispatches) if (d.params) want += uniformWords(d.params.values, d.params.types ?? 'u32').byteLength;
  const before = rt.memory.liveBytes;
  rt.resetPeak();
  assert.is(rt.memory.peakBytes, before);
  const ex = await StepExecutor.create(rt, graph);
  assert.is(rt.memory.liveBytes - before, want);
  assert.is(rt.memory.peakBytes - before, want);
  ex.destroy();
  assert.is(rt.memory.liveBytes, before);
  // The peak remembers the executor; a second destroy gives nothing back twice.
  assert.is(rt.memory.peakBytes - before, want);
  ex.destroy();
  assert.is(rt.memory.liveBytes, before);
});

test('measured memory counts a bare buffer at its aligned size', async () => {
  const rt = await runtime();
  const before = rt.memory.liveBytes;
  const b = rt.buffer(10);
  assert.is(rt.memory.liveBytes - before, 12);
  b.destroy();
  assert.is(rt.memory.liveBytes, before);
});

test.run();
