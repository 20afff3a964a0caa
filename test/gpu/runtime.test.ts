import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runtime, GpuError } from '../../src/gpu/runtime.js';

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

test.run();
