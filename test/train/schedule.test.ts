// Expected values are worked out by hand from the formulas, not by calling the code twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scaledLr } from '../../src/ir/lr-scaling.js';
import { lrAt, makeSchedule, type Schedule } from '../../src/train/schedule.js';

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('lr scaling: linear 0.3·bs/256, sqrt 0.075·√bs, none', () => {
  near(scaledLr(0.3, 'linear', 512), 0.6, 'linear 512');
  near(scaledLr(0.3, 'linear', 4096), 4.8, 'linear 4096');
  near(scaledLr(0.075, 'sqrt', 256), 1.2, 'sqrt 256');
  near(scaledLr(0.075, 'sqrt', 4096), 4.8, 'sqrt 4096');
  near(scaledLr(0.1, 'none', 4096), 0.1, 'none');
});

test('warmup then cosine', () => {
  const s: Schedule = { peakLr: 0.6, warmupSteps: 10, totalSteps: 110, decay: 'cosine' };
  near(lrAt(s, 0), 0, 'step 0');
  near(lrAt(s, 5), 0.3, 'mid warmup');
  near(lrAt(s, 10), 0.6, 'end of warmup');
  near(lrAt(s, 35), 0.6 * 0.5 * (1 + Math.SQRT1_2), 'a quarter into the decay: cos(π/4)');
  near(lrAt(s, 60), 0.3, 'half way: cos(π/2) = 0');
  near(lrAt(s, 110), 0, 'end');
});

test('flat_cos: flat to 75% of the steps, then a half cosine to 0', () => {
  const s: Schedule = { peakLr: 2, warmupSteps: 0, totalSteps: 100, decay: 'flat_cos' };
  near(lrAt(s, 0), 2, 'start');
  near(lrAt(s, 74), 2, 'still flat');
  near(lrAt(s, 75), 2, 'decay starts');
  near(lrAt(s, 80), 2 * 0.5 * (1 + Math.cos(Math.PI / 5)), '5 of 25 decay steps');
  near(lrAt(s, 100), 0, 'end');
  const warm: Schedule = { ...s, warmupSteps: 90 };
  near(lrAt(warm, 45), 1, 'warmup longer than the flat part');
  near(lrAt(warm, 95), 1, 'then half way through the remaining 10 steps');
});

test('constant after warmup', () => {
  const s: Schedule = { peakLr: 0.4, warmupSteps: 4, totalSteps: 50, decay: 'constant' };
  near(lrAt(s, 3), 0.3, 'warmup 3/4');
  near(lrAt(s, 4), 0.4, 'peak');
  near(lrAt(s, 49), 0.4, 'last step');
});

test('makeSchedule: warmup epochs to steps (rounded), peak from the batch size', () => {
  const s = makeSchedule({
    optimizer: { lr: 0.3, lr_scaling: 'linear' },
    schedule: { warmup_epochs: 2.5, decay: 'cosine' },
    batchSize: 1024,
    stepsPerEpoch: 7,
    totalSteps: 70,
  });
  assert.equal(s, { peakLr: 1.2, warmupSteps: 18, totalSteps: 70, decay: 'cosine' });
  const short = makeSchedule({ optimizer: { lr: 1, lr_scaling: 'none' }, schedule: { warmup_epochs: 10, decay: 'constant' }, batchSize: 8, stepsPerEpoch: 5, totalSteps: 20 });
  assert.is(short.warmupSteps, 20, 'warmup never outlasts the run');
});

test.run();
