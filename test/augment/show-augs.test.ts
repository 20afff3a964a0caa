// `show-augs` on the example specs writes a PNG a person can read: decoded, it has the grid's size,
// its views are not blank and differ from their sources; --print shows the resolved pipelines.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'show-augs-'));
// 28×28 images in cells of 112 pixels (zoom 4) with 4-pixel gaps: 3 columns, n rows.
const [SIDE, GAP] = [112, 4];

type Png = ReturnType<typeof decode>;

function cell(png: Png, row: number, col: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) out.push(png.data[((GAP + row * (SIDE + GAP) + y) * png.width + GAP + col * (SIDE + GAP) + x) * png.channels]);
  return out;
}

async function run(args: string[]): Promise<{ code: number; printed: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => void lines.push(xs.join(' '));
  try {
    return { code: await main(args), printed: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

function checkGrid(png: Png, rows: number): void {
  assert.equal([png.width, png.height], [3 * SIDE + 4 * GAP, rows * SIDE + (rows + 1) * GAP]);
  for (let row = 0; row < rows; row++) {
    const source = cell(png, row, 0);
    for (const col of [1, 2]) {
      const view = cell(png, row, col);
      // Jitter may darken an image, never flatten it.
      const spread = Math.max(...view) - Math.min(...view);
      assert.ok(spread >= 48, `row ${row} view ${col} is blank (values span ${spread})`);
      const changed = view.filter((v, i) => Math.abs(v - source[i]) > 32).length;
      assert.ok(changed > 100, `row ${row} view ${col} equals its source (${changed} pixels changed)`);
    }
  }
}

test('show-augs examples/mnist.simclr: the grid, and --print the resolved pipelines', async () => {
  const out = join(dir, 'mnist.png');
  const { code, printed } = await run(['show-augs', 'examples/mnist.simclr', '--n', '6', '--out', out, '--print', '--seed', '3']);
  assert.is(code, 0, printed);
  assert.match(printed, /view 2:\n {2}1\. random_resized_crop\(/);
  assert.match(printed, 'fused passes (3): augment_random_resized_crop_rotate → augment_blur_h → augment_blur_v_normalize');
  assert.match(printed, `wrote ${out} (352×700): 6 images of mnist`);
  checkGrid(decode(readFileSync(out)), 6);
});

test('show-augs examples/fashion-mnist.simclr: the grid', async () => {
  const out = join(dir, 'fashion.png');
  const { code, printed } = await run(['show-augs', 'examples/fashion-mnist.simclr', '--n', '4', '--out', out]);
  assert.is(code, 0, printed);
  checkGrid(decode(readFileSync(out)), 4);
});

test('show-augs refuses a bad --n', async () => {
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    assert.is(await main(['show-augs', 'examples/mnist.simclr', '--n', '0', '--out', join(dir, 'x.png')]), 1);
  } finally {
    process.stderr.write = write;
  }
  assert.match(errors.join(''), '--n must be an integer ≥ 1, got 0');
});

test.run();
