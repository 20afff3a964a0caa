// Chunk planning: a step over the memory budget is chunked to fit and plans less memory than one
// pass; a train.chunk that cannot fit, and a step that cannot fit at all, are coded errors naming
// the field (and the value they name fits); and on the GPU the chunked step's gradients and weights
// are the unchunked step's (given views, or each chunk augmenting its own images), and with
// BatchNorm those of its float64 evaluation, which test/ir/chunk.test.ts holds to a per-chunk reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkError, MAX_CHUNKS } from '../../src/compiler/chunk.js';
import { compile, type TrainingSpec } from '../../src/compiler/compile.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { stepScalars } from '../../src/ir/optimizer.js';
import { SOFTWARE_TARGET } from '../../src/kernels/op.js';
import { evaluate, namedOutputs } from '../../src/ir/evaluate.js';
import { buildPhase } from '../../src/ir/phase.js';
import { pretrainPhase } from '../../src/ir/phases.js';
import { assertClose, randoms } from '../helpers/numeric.js';
import { chunkSpec } from '../helpers/chunk-spec.js';

const N = 7;
const spec = (train: Partial<TrainingSpec['train']> = {}): TrainingSpec => ({ ...chunkSpec(false), train: { batch_size: N, ...train } });
const peak = (s: TrainingSpec) => compile(s, { target: SOFTWARE_TARGET }).kernels.memory.plannedBytes;

/** The ChunkError compiling throws; a step that compiles, or another error, fails the test. */
function refusal(build: () => unknown): ChunkError {
  let thrown: unknown;
  try {
    build();
  } catch (err) {
    thrown = err;
  }
  assert.instance(thrown, ChunkError, 'a ChunkError was expected');
  return thrown as ChunkError;
}

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
  const err = refusal(() => compile(spec({ chunk: N, memory_budget: (peak(spec()) * 0.9) / 2 ** 20 }), { target: SOFTWARE_TARGET }));
  assert.is(err.code, 'E0602');
  assert.match(err.message, `The largest train.chunk that fits is ${fits}`);
});

test('a step that cannot fit one image per chunk is E0601 naming the field to change', () => {
  const budget = refusal(() => compile(spec({ memory_budget: 1e-3 }), { target: SOFTWARE_TARGET }));
  assert.is(budget.code, 'E0601');
  assert.is(budget.field, 'train.memory_budget');
  // The views of 12 images alone over one binding (3456 bytes of 3000; one image's activations and the
  // kernels' scratch fit): only a smaller batch helps, and the message says how small.
  const tiny = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 3000 };
  const at = (batch_size: number) => () => compile({ ...spec(), train: { batch_size } }, { target: tiny });
  const batch = refusal(at(12));
  assert.is(batch.code, 'E0601');
  assert.is(batch.field, 'train.batch_size');
  assert.match(batch.message, 'The largest train.batch_size that fits is 10');
  // The value the message names fits, and one more does not.
  assert.ok(at(10)().chunking, 'batch 10 compiles, chunked');
  assert.is(refusal(at(11)).code, 'E0601');
});

test(`past ${MAX_CHUNKS} chunks a step, a chunk's activations over a binding are E0601 at train.batch_size, and the batch it names fits`, () => {
  // 64 channels on 6×6 views: each image's activations are larger than its views, so a chunk
  // outgrows the binding (60,000 bytes) at two images per chunk while the views of 200 fit.
  const wide = (batch_size: number): TrainingSpec => {
    const s = spec();
    return { ...s, encoder: { ...s.encoder, layers: [{ ...s.encoder.layers[0], out: 64 }, ...s.encoder.layers.slice(1)] } as never, train: { batch_size } };
  };
  const target = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 60000 };
  const err = refusal(() => compile(wide(200), { target }));
  assert.is(err.code, 'E0601');
  assert.is(err.field, 'train.batch_size');
  assert.match(err.message, `chunks a step`);
  const named = Number(/fits is (\d+)/.exec(err.message)?.[1]);
  assert.is(compile(wide(named), { target }).chunking?.chunks, MAX_CHUNKS);
  assert.is(refusal(() => compile(wide(named + 1), { target })).code, 'E0601');
});

test('a train.chunk that splits the batch into more than the most chunks a step may have is E0602 naming the smallest', () => {
  const err = refusal(() => compile({ ...spec(), train: { batch_size: 200, chunk: 3 } }, { target: SOFTWARE_TARGET }));
  assert.is(err.code, 'E0602');
  assert.match(err.message, 'the smallest train.chunk for this batch is 4');
});

test('the memory budget E0601 names is one that fits one image per chunk', () => {
  const err = refusal(() => compile(spec({ memory_budget: 1e-3 }), { target: SOFTWARE_TARGET }));
  const mib = Number(/at least (\d+) \(MiB\)/.exec(err.message)?.[1]);
  assert.ok(mib > 0, err.message);
  assert.ok(compile(spec({ memory_budget: mib }), { target: SOFTWARE_TARGET }).kernels.memory.plannedBytes <= mib * 2 ** 20);
});

test('one image over a binding is E0601 at augment.size, and the size it names fits', () => {
  const big = (size: number): TrainingSpec => ({ ...spec(), augment: { size } as never, data: { image_size: size, channels: 1 } as never, train: { batch_size: 4 } });
  const target = { ...SOFTWARE_TARGET, maxStorageBufferBindingSize: 2 ** 20 };
  const err = refusal(() => compile(big(256), { target }));
  assert.is(err.code, 'E0601');
  assert.is(err.field, 'augment.size');
  const named = Number(/at most (?:about )?(\d+)/.exec(err.message)?.[1]);
  assert.ok(named > 8 && named < 256, `named augment.size ${named}`);
  assert.ok(compile(big(named), { target }).kernels.buffers.every((b) => b.bytes <= 2 ** 20), `augment.size ${named} fits`);
});

test('many chunks: each chunk adds its gradient to the running sum, so no kernel binds a buffer per chunk and the peak falls with the chunk', () => {
  const many = (chunk?: number) => compile({ ...spec(), train: { batch_size: 24, chunk } }, { target: SOFTWARE_TARGET }).kernels;
  const widest = (kg: ReturnType<typeof many>) => Math.max(...kg.kernels.flatMap((k) => k.dispatches.map((d) => d.buffers.length)));
  const [whole, four, one] = [many(), many(4), many(1)];
  assert.ok(widest(one) <= widest(whole), `widest kernel binds ${widest(one)} buffers at 24 chunks, ${widest(whole)} in one pass`);
  assert.ok(one.memory.plannedBytes < four.memory.plannedBytes && four.memory.plannedBytes < whole.memory.plannedBytes, `${one.memory.plannedBytes} < ${four.memory.plannedBytes} < ${whole.memory.plannedBytes}`);
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

test('GPU: each chunk augments its own images at its offset: chunks of 4 of 6 give the unchunked step’s z, loss, gradients and weights within 1e-5', async () => {
  const rt = await runtime();
  const views = [0, 1].map(() => [
    { op: 'random_resized_crop', p: 1, scale: [0.3, 1], ratio: [0.75, 4 / 3] },
    { op: 'flip', p: 0.5 },
    { op: 'color_jitter', p: 0.8, brightness: 0.4, contrast: 0.4, saturation: 0, hue: 0 },
  ]);
  const augmented: TrainingSpec = { ...spec(), augment: { size: 6, views } as never, data: { image_size: 8, channels: 1 } as never, train: { batch_size: 6 } };
  const source = Uint8Array.from({ length: 6 * 64 }, (_, i) => (i * 37 + (i >> 3) * 11) % 256);
  const steps = await Promise.all(
    [undefined, 4].map(async (chunk) => {
      const { kernels } = compile(augmented, { target: rt.target, keepGrads: true, chunk });
      assert.is(kernels.kernels.some((k) => k.op === 'take_images'), chunk !== undefined, 'per-chunk augmentation only when chunked');
      const ex = await StepExecutor.create(rt, kernels, { seed: 11 });
      ex.write('source', source);
      ex.setStep(stepScalars(augmented.optimizer, 3, 0.1));
      ex.record();
      return { ex, loss: (await ex.read('loss'))[0] };
    }),
  );
  const [whole, chunked] = steps;
  assert.ok(Math.abs(whole.loss - chunked.loss) <= 1e-5 * Math.abs(whole.loss), `loss ${chunked.loss} vs ${whole.loss}`);
  assertClose(await chunked.ex.read('z'), await whole.ex.read('z'), 1e-5, 'z');
  const names = Object.keys(whole.ex.graph.outputs).filter((k) => k.startsWith('grad:') || (whole.ex.persistentNames.includes(k) && k !== 'source'));
  assert.ok(names.length >= 8);
  for (const name of names) if (name !== 'views') assertClose(await chunked.ex.read(name), await whole.ex.read(name), 1e-5, name);
  for (const s of steps) s.ex.destroy();
});

test('GPU: with BatchNorm, chunks of 3 of 7 images: the step equals its float64 evaluation (per-chunk normalisation, running statistics once per chunk) within 1e-4', async () => {
  const rt = await runtime();
  const bn: TrainingSpec = { ...chunkSpec(true), train: { batch_size: N } };
  const views = randoms(2 * N * 36, 3);
  const { kernels } = compile(bn, { target: rt.target, keepGrads: true, chunk: 3 });
  const ex = await StepExecutor.create(rt, kernels, { initial: { views: Float32Array.from(views) }, seed: 5 });
  // The float64 evaluation starts from the device's initial parameters.
  const feeds: Record<string, Float64Array> = { views };
  for (const b of kernels.buffers) if (b.kind === 'param' && b.name) feeds[b.name] = Float64Array.from(await ex.read(b.name));
  const scalars = stepScalars(bn.optimizer, 1, 0.1);
  ex.setStep(scalars);
  const loss = await ex.step();
  const { graph } = buildPhase(pretrainPhase(bn, N, true, 3));
  const want = namedOutputs(graph, evaluate(graph, feeds, scalars));
  assert.ok(Math.abs(loss - want.loss[0]) <= 1e-4 * Math.abs(want.loss[0]), `loss ${loss} vs ${want.loss[0]}`);
  const names = Object.keys(want).filter((k) => k.startsWith('grad:') || k.includes('running_') || k in feeds);
  assert.ok(names.filter((k) => k.includes('running_')).length === 4 && names.length >= 20, names.join(' '));
  for (const name of names) if (name !== 'views') assertClose(await ex.read(name), want[name], 1e-4, name);
  ex.destroy();
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
