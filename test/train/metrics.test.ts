import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsLog, readMetrics } from '../../src/train/metrics.js';

const dir = mkdtempSync(join(tmpdir(), 'simclr-metrics-'));

test('one JSON line per record; NaN and Infinity survive as strings', () => {
  const path = join(dir, 'a.jsonl');
  const log = MetricsLog.open(path);
  log.append({ step: 0, loss: 4.5, lr: 0 });
  log.append({ step: 1, loss: NaN, lr: Infinity });
  assert.is(readFileSync(path, 'utf8'), '{"step":0,"loss":4.5,"lr":0}\n{"step":1,"loss":"NaN","lr":"Infinity"}\n');
});

test('resuming at step s drops records of step s and later, keeps step-less ones', () => {
  const path = join(dir, 'b.jsonl');
  const log = MetricsLog.open(path);
  for (let step = 0; step < 6; step++) log.append({ step, loss: 6 - step });
  log.append({ kind: 'eval', knn_top1: 0.5 });
  const resumed = MetricsLog.open(path, 4);
  resumed.append({ step: 4, loss: 2.5 });
  assert.equal(readMetrics(path), [{ step: 0, loss: 6 }, { step: 1, loss: 5 }, { step: 2, loss: 4 }, { step: 3, loss: 3 }, { kind: 'eval', knn_top1: 0.5 }, { step: 4, loss: 2.5 }]);
  assert.equal(readMetrics(MetricsLog.open(path).path), [], 'a fresh run starts empty');
});

test('a torn last line is skipped; a torn line in the middle is an error with its line number', () => {
  const path = join(dir, 'c.jsonl');
  MetricsLog.open(path).append({ step: 0 });
  appendFileSync(path, '{"step": 1, "lo');
  assert.equal(readMetrics(path), [{ step: 0 }]);
  appendFileSync(path, '\n{"step": 2}\n');
  assert.throws(() => readMetrics(path), /c\.jsonl:2: error E0506: not a JSON line/);
});

test.run();
