// Chunk planning: a step over the memory budget is chunked to fit and plans less memory than one
// pass; a train.chunk that cannot fit, and a step that cannot fit at all, are coded errors naming
// the field; and on the GPU the chunked step's gradients and weights are the unchunked step's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkError } from '../../src/compiler/chunk.js';
import { compile, type TrainingSpec } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { assertClose, randoms } from '../helpers/numeric.js';
import { chunkSpec } from '../helpers/chunk-spec.js';

const N = 7;
const spec = (train: Partial<TrainingSpec['train']> = {}): TrainingSpec => ({ ...chunkSpec(false), train: { batch_size: N, ...train } });
const peak = (s: TrainingSpec) => compile(s, { target: SOFTWARE_TARGET }).kernels.memory.plannedBytes;

test('a step over train.memory_budget is chunked into the fewest equal chunks that fit, and plans less memory', () => {
  const whole = peak(spec());
  const budgetMiB = (whole * 0.9) / 2 ** 20;
  const c = compile({ ...spec(), train: { batch_size: N, memory_budget: budgetMiB } }, { target: SOFTWARE_TARGET });
  assert.ok(c.chunking, 'chunked');
  assert.ok(c.kernels.memory.plannedBytes < whole, `${c.kernels.memory.plannedBytes} < ${whole}`);
  assert.ok(c.kernels.memory.plannedBytes <= budgetMiB * 2 ** 20);
  assert.is(c.chunking!.unchunkedPeakBytes, whole);
  assert.is(c.chunking!.chunk, Math.ceil(N / c.chunking!.chunks));
  assert.ok(c.kernels.kernels.some((k) => k.stage === 'backward' && k.chunk === 0 && k.op === 'conv2d'), 'chunk 0 recomputed in the backward stage');
});

test('train.chunk chunks by hand; one that does not fit is E0602 naming the largest that does', () => {
  assert.is(compile(spec({ chunk: 3 }), { target: SOFTWARE_TARGET }).chunking?.chunks, 3);
  const fits = compile(spec({ memory_budget: (peak(spec()) * 0.9) / 2 ** 20 }), { target: SOFTWARE_TARGET }).chunking!.chunk;
  try {
    compile(spec({ chunk: N, memory_budget: (peak(spec()) * 0.9) / 2 ** 20 }), { target: SOFTWARE_TARGET });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ChunkError);
    assert.is((err as ChunkError).code, 'E0602');
    assert.match((err as Error).message, `The largest train.chunk that fits is ${fits}`);
  }
});

test('a step that cannot fit one image per chunk is E0601 naming the field to change', () => {
  try {
    compile(spec({ memory_budget: 1e-3 }), { target: SOFTWARE_TARGET });
    assert.unreachable();
  } catch (err) {
    assert.is((err as ChunkError).code, 'E0601');
    assert.is((err as ChunkError).field, 'train.memory_budget');
  }
  // The views alone over one binding: only a smaller batch helps, and the message says how small.
  const tiny = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 2 * 3 * 36 * 4 };
  try {
    compile(spec(), { target: tiny });
    assert.unreachable();
  } catch (err) {
    assert.is((err as ChunkError).code, 'E0601');
    assert.is((err as ChunkError).field, 'train.batch_size');
    assert.match((err as Error).message, 'The largest train.batch_size that fits is 3');
  }
});

test('GPU: chunks of 3 of 7 images give the unchunked step’s loss, gradients and weights within 1e-5', async () => {
  const rt = await runtime();
  const feeds: Record<string, Float32Array> = { views: Float32Array.from(randoms(2 * N * 36, 3)) };
  const steps = await Promise.all(
    [undefined, 3].map(async (chunk) => {
      const { kernels } = compile(spec(), { target: rt.target, keepGrads: true, chunk });
      const ex = await StepExecutor.create(rt, kernels, { initial: feeds, seed: 5 });
      ex.setStep(stepScalars(spec().optimizer, 1, 0.1));
      return { ex, loss: await ex.step() };
    }),
  );
  const [whole, chunked] = steps;
  assert.ok(Math.abs(whole.loss - chunked.loss) <= 1e-5 * Math.abs(whole.loss), `loss ${chunked.loss} vs ${whole.loss}`);
  const names = Object.keys(whole.ex.graph.outputs).filter((k) => k.startsWith('grad:') || whole.ex.persistentNames.includes(k));
  assert.ok(names.length >= 8);
  for (const name of names) if (name !== 'views') assertClose(await chunked.ex.read(name), await whole.ex.read(name), 1e-5, name);
  for (const s of steps) s.ex.destroy();
});

test('large images: each chunk augments its own source images, so a step whose whole-batch views outgrow a binding compiles chunked', () => {
  const views = [0, 1].map(() => [{ op: 'random_resized_crop', p: 1, scale: [0.5, 1], ratio: [0.75, 4 / 3] }, { op: 'flip', p: 0.5 }]);
  const big: TrainingSpec = { ...spec(), augment: { size: 1024, views } as never, data: { image_size: 1024, channels: 1 } as never, train: { batch_size: 16, memory_budget: 1e6 } };
  // The whole batch's views are 128 MiB, twice what one binding holds here; the source is 16 MiB of u8.
  const target = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 64 * 2 ** 20, maxBufferSize: 2 ** 32 };
  const c = compile(big, { target });
  assert.ok(c.chunking, 'chunked');
  assert.ok(c.kernels.kernels.some((k) => k.op === 'take_images'), 'takes each chunk of the source');
  assert.ok(c.kernels.buffers.every((b) => b.bytes <= 64 * 2 ** 20));
  assert.ok(c.kernels.kernels.some((k) => k.stage === 'backward' && k.op === 'augment' && k.chunk === 0), 'chunk 0 re-augmented before its backward');
});

test.run();
