import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { centreSquare, resize, toPlanar } from '../../src/data/pixels.js';

test('upscaling a 2-pixel ramp is linear interpolation between pixel centres', () => {
  // Centres of 4 outputs over 2 inputs sit at 0.25, 0.75, 1.25, 1.75 (input centres at 0.5, 1.5).
  assert.equal(Array.from(resize(Uint8Array.from([0, 100]), 1, 1, 2, 1, 4)), [0, 25, 75, 100]);
});

test('halving uses the widened triangle filter (weights 3/4, 3/4, 1/4 at the border)', () => {
  const out = resize(Uint8Array.from([0, 40, 80, 120]), 1, 1, 4, 1, 2);
  // Output 0 is centred at 1.0 with support 2: inputs 0, 1, 2 weigh 0.75, 0.75, 0.25.
  assert.equal(Array.from(out), [Math.round((0.75 * 40 + 0.25 * 80) / 1.75), Math.round((0.25 * 40 + 0.75 * 80 + 0.75 * 120) / 1.75)]);
});

test('a flat image stays flat at every size', () => {
  const flat = new Uint8Array(3 * 7 * 5).fill(77);
  for (const [h, w] of [[3, 2], [14, 10], [7, 5]]) assert.ok(resize(flat, 3, 7, 5, h, w).every((v) => v === 77));
});

test('centreSquare keeps the middle of the longer side', () => {
  // 1×2×4 image: columns 1 and 2 are the centred 2×2 square.
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(Array.from(centreSquare(img, 1, 2, 4, 2)), [2, 3, 6, 7]);
});

test('toPlanar: gray+alpha to RGB replicates gray; RGBA to gray is luma', () => {
  const ga = { data: Uint8Array.from([10, 255, 20, 0]), width: 2, height: 1, channels: 2 };
  assert.equal(Array.from(toPlanar(ga, 3)), [10, 20, 10, 20, 10, 20]);
  const rgba = { data: Uint8Array.from([255, 0, 0, 9, 0, 0, 255, 9]), width: 2, height: 1, channels: 4 };
  assert.equal(Array.from(toPlanar(rgba, 1)), [Math.round(0.299 * 255), Math.round(0.114 * 255)]);
});

test.run();
