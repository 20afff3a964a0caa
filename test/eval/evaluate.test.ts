import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/data/rng.js';
import type { Dataset } from '../../src/data/index.js';
import { evaluateEncoder } from '../../src/eval/evaluate.js';
import { runtime } from '../../src/gpu/runtime.js';
import { loadSpecFile } from '../../src/spec/index.js';

test('eval_split train on noise: kNN is at chance, not 1.0 (no image is its own neighbour)', async () => {
  const loaded = loadSpecFile('test/fixtures/tiny-run.simclr', { set: ['data.eval_split=train', 'eval.linear=false'] });
  assert.ok(loaded.spec, loaded.diagnostics.map((d) => d.message).join('\n'));
  const count = 240;
  const rng = new Rng(17);
  const noise: Dataset = {
    images: Uint8Array.from({ length: count * 144 }, () => Math.floor(256 * rng.next())),
    labels: Int32Array.from({ length: count }, () => Math.floor(4 * rng.next())),
    count,
    channels: 1,
    height: 12,
    width: 12,
    name: 'noise',
  };
  // A random-init encoder (no weights given): its features of noise carry nothing about the labels.
  const result = await evaluateEncoder(await runtime(), loaded.spec!, {}, { train: noise, test: noise });
  assert.ok(result.knn_top1! < 0.4, `kNN top-1 ${result.knn_top1} on noise labels, chance 0.25`);
});

test.run();
