// Every stdlib encoder, exported to ONNX with random weights and random batchnorm statistics, gives
// in onnxruntime the features the project's own inference graph computes (the example file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compileFeatures } from '../../src/compiler/compile.js';
import { Rng } from '../../src/data/rng.js';
import { RunFolderError } from '../../src/export/errors.js';
import { exportOnnx } from '../../src/export/export.js';
import { StepExecutor } from '../../src/gpu/executor.js';
import { runtime } from '../../src/gpu/runtime.js';
import { loadSpecText, type ResolvedSpec } from '../../src/spec/index.js';
import { decodeCheckpoint, writeCheckpoint } from '../../src/train/checkpoint.js';
import { writeJson } from '../../src/train/run-folder.js';

const ENCODERS = readdirSync('stdlib/encoders').filter((f) => f.endsWith('.simclr')).map((f) => f.replace('.simclr', ''));

function specFor(encoder: string, size: number, channels: number): ResolvedSpec {
  const text = `name: "export-${encoder}"\ndata { source: synthetic  image_size: ${size}  channels: ${channels}  limit: 8 }\nencoder { use ${encoder} }\n`;
  const loaded = loadSpecText(text, `${encoder}.simclr`);
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  return loaded.spec!;
}

/** A run folder whose checkpoint has the graph's own random init, and batchnorm made non-trivial. */
async function fakeRun(spec: ResolvedSpec): Promise<string> {
  const rt = await runtime();
  const dir = mkdtempSync(join(tmpdir(), 'simclr-export-'));
  const executor = await StepExecutor.create(rt, compileFeatures(spec, 2, rt.target), { seed: 5 });
  const rng = new Rng(11);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const name of executor.persistentNames) {
    const data = await executor.read(name);
    // Fresh batchnorm (γ 1, β 0, mean 0, var 1) would hide a wrong input order in the exported node.
    if (/running_var$/.test(name) || data.every((v) => v === 1)) data.forEach((_, i) => (data[i] = 0.5 + rng.next()));
    else if (/(running_mean|bias)$/.test(name)) data.forEach((_, i) => (data[i] = 0.2 * rng.normal()));
    tensors[name] = { shape: [data.length], data };
  }
  executor.destroy();
  writeJson(join(dir, 'spec.json'), spec);
  writeCheckpoint(join(dir, 'checkpoint.safetensors'), { tensors, metadata: { step: '0' } });
  return dir;
}

for (const [encoder, size, channels] of ENCODERS.map((e) => [e, e.startsWith('xresnet') ? 32 : 12, e === 'xresnet18' ? 3 : 1] as const)) {
  test(`${encoder}: onnxruntime matches our features within 1e-4`, async () => {
    const dir = await fakeRun(specFor(encoder, size, channels));
    const file = join(dir, `${encoder}.onnx`);
    const r = await exportOnnx(await runtime(), dir, file);
    const example = decodeCheckpoint(readFileSync(r.example), r.example).tensors;
    assert.equal(example.input.shape, [2, channels, size, size]);
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ input: new ort.Tensor('float32', example.input.data, example.input.shape) });
    const got = out.features;
    assert.equal(got.dims, example.features.shape);
    const want = example.features.data;
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    let worst = 0;
    (got.data as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
    assert.ok(worst / scale <= 1e-4, `${encoder}: largest difference ${worst} (features up to ${scale})`);
    assert.ok(want.some((v) => v !== 0), 'features are not all zero');
  });
}

test('export names a missing run folder and a wrong extension by code', async () => {
  const rt = await runtime();
  const code = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof RunFolderError ? e.code : String(e)));
  assert.is(await code(exportOnnx(rt, mkdtempSync(join(tmpdir(), 'simclr-empty-')), join(tmpdir(), 'x.onnx'))), 'E0501');
  assert.is(await code(exportOnnx(rt, tmpdir(), join(tmpdir(), 'x.pt'))), 'E0503');
});

test.run();
