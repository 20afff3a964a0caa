import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { openDataset, openImageFolder } from '../../src/data/index.js';
import { handPng, tempDir, writeFile } from './fixtures.js';

function solidRgba(width: number, height: number, rgb: number[]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return data;
}

/** cat: an 8×6 RGB PNG and a 16×16 JPEG; dog: a 16-bit gray PNG; plus files that are not images. */
function makeFolder(): string {
  const root = tempDir('images');
  writeFile(join(root, 'cat', 'a.png'), encodePng({ width: 8, height: 6, data: solidRgba(8, 6, [200, 100, 50]).filter((_, i) => i % 4 !== 3), channels: 3 }));
  writeFile(join(root, 'cat', 'b.JPG'), jpeg.encode({ width: 16, height: 16, data: solidRgba(16, 16, [10, 20, 240]) }, 100).data);
  writeFile(join(root, 'cat', 'notes.txt'), 'not an image');
  writeFile(join(root, 'dog', 'c.png'), encodePng({ width: 4, height: 4, data: new Uint16Array(16).fill(0x8000), depth: 16, channels: 1 }));
  writeFile(join(root, '.hidden', 'x.png'), 'ignored');
  return root;
}

test('class sub-folders become sorted labels; PNG (8/16-bit) and JPEG decode and resize', () => {
  const ds = openImageFolder(makeFolder(), 4, 3);
  assert.equal(ds.classes, ['cat', 'dog']);
  assert.is(ds.count, 3);
  assert.equal(Array.from(ds.labels!), [0, 0, 1]);
  const at = (n: number, c: number) => ds.images[n * 48 + c * 16 + 5];
  assert.equal([at(0, 0), at(0, 1), at(0, 2)], [200, 100, 50]);
  // JPEG at quality 100 keeps a flat colour within a couple of levels.
  for (const [c, want] of [[0, 10], [1, 20], [2, 240]]) assert.ok(Math.abs(at(1, c) - want) <= 3, `jpeg channel ${c}: ${at(1, c)} vs ${want}`);
  // 16-bit gray 0x8000 keeps its high byte and is copied to all three channels.
  assert.equal([at(2, 0), at(2, 1), at(2, 2)], [128, 128, 128]);
});

test('one channel: colour becomes luma 0.299 R + 0.587 G + 0.114 B', () => {
  const ds = openImageFolder(makeFolder(), 4, 1);
  assert.is(ds.images[5], Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50));
  assert.is(ds.images[32 + 5], 128);
});

test('1-bit gray and 4-bit palette PNGs', () => {
  const root = tempDir('lowbit');
  // 1-bit gray, 3 pixels wide: 1 0 1 → 255 0 255 (row padded to a byte).
  writeFile(join(root, 'a', 'bits.png'), handPng(3, 3, 1, 0, [0b10100000, 0b10100000, 0b10100000].map((b) => Uint8Array.of(b))));
  // 4-bit palette, 2 pixels wide: indices 1, 0 → (0, 0, 255), (255, 0, 0).
  const palette = [[255, 0, 0], [0, 0, 255]];
  writeFile(join(root, 'b', 'indexed.png'), handPng(2, 2, 4, 3, [Uint8Array.of(0x10), Uint8Array.of(0x10)], palette));
  const gray = openImageFolder(root, 3, 1);
  assert.equal(Array.from(gray.images.subarray(0, 9)), [255, 0, 255, 255, 0, 255, 255, 0, 255]);
  const colour = openImageFolder(root, 2, 3);
  // Image 1 (the palette one) at its own 2×2 size: R plane 0, 255; B plane 255, 0 on each row.
  assert.equal(Array.from(colour.images.subarray(12, 24)), [0, 255, 0, 255, 0, 0, 0, 0, 255, 0, 255, 0]);
});

test('a folder with train/ and test/ sub-folders serves each split', () => {
  const root = tempDir('split');
  const png = (v: number) => encodePng({ width: 2, height: 2, data: new Uint8Array(4).fill(v), channels: 1 });
  writeFile(join(root, 'train', 'a', '1.png'), png(10));
  writeFile(join(root, 'train', 'b', '2.png'), png(20));
  writeFile(join(root, 'test', 'a', '3.png'), png(30));
  writeFile(join(root, 'test', 'b', '4.png'), png(40));
  const data = { source: 'image-folder' as const, path: root, split: 'train' as const, image_size: 2, channels: 1 as const };
  assert.equal(Array.from(openDataset(data).images), [10, 10, 10, 10, 20, 20, 20, 20]);
  assert.equal(Array.from(openDataset(data, 'test').images), [30, 30, 30, 30, 40, 40, 40, 40]);
});

// Before, a folder without train/ and test/ served all its images as both splits: kNN found each
// query in its own memory bank. The splits must be disjoint, cover the folder, hold out 20% of
// each class (so a class is never missing from the test side) and be the same on every opening.
test('a folder without train/ and test/ is carved into a seeded, class-stratified held-out split', () => {
  const root = tempDir('carve');
  const png = (v: number) => encodePng({ width: 2, height: 2, data: new Uint8Array(4).fill(v), channels: 1 });
  for (let i = 0; i < 10; i++) writeFile(join(root, 'a', `${i}.png`), png(i));
  for (let i = 0; i < 5; i++) writeFile(join(root, 'b', `${i}.png`), png(100 + i));
  writeFile(join(root, 'c', 'only.png'), png(200));
  const data = { source: 'image-folder' as const, path: root, split: 'train' as const, image_size: 2, channels: 1 as const };
  const pixels = (ds: ReturnType<typeof openDataset>) => Array.from({ length: ds.count }, (_, i) => ds.images[i * 4]);
  const train = openDataset(data);
  const held = openDataset(data, 'test');
  assert.equal(train.heldOut, { train: 13, test: 3 });
  assert.equal(held.heldOut, train.heldOut);
  assert.equal(Array.from(held.labels!).sort(), [0, 0, 1], 'two of class a, one of b, none of the single image of c');
  const all = [...pixels(train), ...pixels(held)].sort((x, y) => x - y);
  assert.equal(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 101, 102, 103, 104, 200], 'disjoint, and together the whole folder');
  assert.equal(pixels(openDataset(data, 'test')), pixels(held), 'the same images every time');
  assert.ok(pixels(train).includes(200), 'a class of one image stays in training');
});

test.run();
