import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { duration, Progress, type Out } from '../../src/train/progress.js';

function sink(isTTY = false): Out & { text: string } {
  const s = { text: '', isTTY, columns: 120, write: (t: string) => (s.text += t) };
  return s;
}

/** A clock that advances 250 ms per call after the first. */
function clock(): () => number {
  let t = 0;
  return () => (t += 250) - 250;
}

test('plain lines every log_every steps: epoch, step, loss, lr, images/s, ETA', () => {
  const out = sink();
  const p = new Progress({ totalSteps: 20, stepsPerEpoch: 10, batchSize: 64, logEvery: 5, out, now: clock() });
  for (let step = 0; step < 20; step++) p.update({ step, loss: 5 - step / 10, lr: 0.3 });
  const lines = out.text.trim().split('\n');
  assert.is(lines.length, 4);
  // Steps 1…5 are measured at clock readings 0.25 s … 1.25 s: 4 steps/s, so 4·64 = 256 images/s
  // and 15 steps left take 3.75 s.
  assert.is(lines[0], 'epoch 1/2  step 5/20  loss 4.6000  lr 0.300  256.0 img/s  ETA 0:04');
  assert.match(lines[3], /^epoch 2\/2  step 20\/20  loss 3\.1000 .* ETA 0:00$/);
});

test('--json: one JSON object per logged step on its own stream, nothing on stderr', () => {
  const out = sink();
  const jsonOut = sink();
  const p = new Progress({ totalSteps: 9, stepsPerEpoch: 3, batchSize: 8, logEvery: 4, json: true, out, jsonOut, now: clock() });
  const logged = [];
  for (let step = 0; step < 9; step++) logged.push(p.update({ step, loss: 1, lr: 0.01 }));
  assert.is(out.text, '');
  const lines = jsonOut.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => l.step), [3, 7, 8], 'every 4th step and the last');
  assert.equal(Object.keys(lines[0]).sort(), ['epoch', 'eta_s', 'images_per_s', 'loss', 'lr', 'step']);
  assert.equal(lines[0], { step: 3, epoch: 1, loss: 1, lr: 0.01, images_per_s: 32, eta_s: 5 * 0.25 });
  assert.equal(logged.filter(Boolean).length, 3);
});

test('on a terminal: a bar redrawn in place, messages on their own line', () => {
  const out = sink(true);
  const p = new Progress({ totalSteps: 4, stepsPerEpoch: 4, batchSize: 2, logEvery: 2, out, now: clock() });
  p.update({ step: 0, loss: 2, lr: 1 });
  p.message('kNN top-1 0.5');
  p.update({ step: 1, loss: 1.5, lr: 1 });
  p.finish();
  assert.match(out.text, /^\repoch 1\/1 \[#{10}\.{30}\] step 1\/4 loss 2\.0000/);
  assert.match(out.text, /\x1b\[K\nkNN top-1 0\.5\n\repoch 1\/1 \[#{20}\.{20}\] step 2\/4/);
  assert.ok(out.text.endsWith('\x1b[K\n'), JSON.stringify(out.text.slice(-20)));
});

test('speed is measured over recent steps: a slow first step stops counting', () => {
  const times = [0, 10_000, 10_500, 11_000, 11_500];
  const out = sink();
  const p = new Progress({ totalSteps: 24, stepsPerEpoch: 24, batchSize: 10, logEvery: 1, out, now: () => times.shift()! });
  const first = p.update({ step: 0, loss: 1, lr: 1 })!;
  assert.is(first.images_per_s, 1, 'one step of 10 images in 10 s');
  p.update({ step: 1, loss: 1, lr: 1 });
  p.update({ step: 2, loss: 1, lr: 1 });
  const fourth = p.update({ step: 3, loss: 1, lr: 1 })!;
  // Steps 2–4 took 0.5 s each: 2 steps/s, although the average since the start is 4 steps in 11.5 s.
  assert.is(fourth.images_per_s, 20);
  assert.is(fourth.eta_s, 10);
});

test('durations', () => {
  assert.is(duration(59.6), '1:00');
  assert.is(duration(3725), '1:02:05');
  assert.is(duration(Infinity), '?');
});

test.run();
