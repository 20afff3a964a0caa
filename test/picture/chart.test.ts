import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode } from 'fast-png';
import { PALETTE, renderChart } from '../../src/picture/chart.js';

/** Mean row of the pixels of `color` within a column band, or NaN when the band has none. */
function meanRow(png: ReturnType<typeof decode>, color: number[], x0: number, x1: number, y0: number, y1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * png.channels;
      if (png.data[i] === color[0] && png.data[i + 1] === color[1] && png.data[i + 2] === color[2]) {
        sum += y;
        n++;
      }
    }
  return n ? sum / n : NaN;
}

test('a falling loss curve is drawn high on the left and low on the right', () => {
  const points: [number, number][] = Array.from({ length: 50 }, (_, i) => [i, 5 - 0.08 * i]);
  const png = decode(renderChart([{ title: 'loss', xLabel: 'step', series: [{ name: 'loss', points }] }]));
  assert.is(png.width, 720);
  assert.is(png.height, 300);
  const left = meanRow(png, PALETTE[0], 85, 150, 36, 250);
  const right = meanRow(png, PALETTE[0], 400, 480, 60, 250); // clear of the legend (top right)
  assert.ok(left < right - 60, `left ${left} should be far above right ${right}`);
});

test('panels stack, and each series gets its own colour', () => {
  const up: [number, number][] = [[0, 0.1], [10, 0.9]];
  const flat: [number, number][] = [[0, 0.5], [10, 0.5]];
  const png = decode(
    renderChart([
      { title: 'loss', xLabel: 'step', series: [{ name: 'a', points: up }] },
      { title: 'knn top1', xLabel: 'epoch', series: [{ name: 'trained', points: up }, { name: 'random init', points: flat }] },
    ]),
  );
  assert.is(png.height, 600);
  assert.ok(!Number.isNaN(meanRow(png, PALETTE[1], 100, 600, 340, 550)), 'second series drawn in the second panel');
  assert.ok(Number.isNaN(meanRow(png, PALETTE[1], 100, 600, 40, 250)), 'no second series in the first panel');
});

test('non-finite points are skipped rather than breaking the axis', () => {
  const png = decode(renderChart([{ title: 'loss', xLabel: 'step', series: [{ name: 'l', points: [[0, 1], [1, NaN], [2, 0.5]] }] }]));
  assert.ok(!Number.isNaN(meanRow(png, PALETTE[0], 80, 700, 36, 256)));
});

test.run();
