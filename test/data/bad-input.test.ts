// Every kind of bad input is a DataError that names the file or folder at fault.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { BatchLoader, DataError, openDataset, openIdx, openImageFolder, openSynthetic } from '../../src/data/index.js';
import { idxBytes, ramp, tempDir, writeFile } from './fixtures.js';

function expectDataError(run: () => unknown, path: string, message: RegExp): void {
  try {
    run();
  } catch (err) {
    assert.instance(err, DataError, `expected a DataError, got ${(err as Error).stack}`);
    assert.is((err as DataError).path, path);
    assert.ok((err as Error).message.startsWith(`${path}: `), (err as Error).message);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`no error for ${path}`);
}

const dir = tempDir('bad');
const idx = { source: 'idx' as const, split: 'train' as const, image_size: 4, channels: 1 as const };

test('a missing IDX file', () => {
  const path = join(dir, 'nothing-images-idx3-ubyte');
  expectDataError(() => openDataset({ ...idx, path }), path, /not found/);
});

test('a missing file inside an MNIST-layout folder names the file looked for', () => {
  const folder = join(dir, 'empty-fashion');
  writeFile(join(folder, 'train-images-idx3-ubyte.gz'), idxBytes([1, 4, 4], ramp(16)), true);
  expectDataError(() => openDataset({ ...idx, source: 'fashion-mnist', path: folder }, 'test'), join(folder, 't10k-images-idx3-ubyte.gz'), /file not found \(the test images/);
});

test('a file that is not IDX', () => {
  const path = writeFile(join(dir, 'text-images-idx3-ubyte'), 'hello, world');
  expectDataError(() => openIdx(path, 'train', 'x'), path, /not an IDX file/);
});

test('a truncated gzip', () => {
  const whole = gzipSync(idxBytes([10, 4, 4], ramp(160)));
  const path = writeFile(join(dir, 'cut-images-idx3-ubyte.gz'), whole.subarray(0, whole.length - 20));
  expectDataError(() => openIdx(path, 'train', 'x'), path, /corrupt or truncated gzip data/);
});

test('truncated IDX data, and trailing bytes', () => {
  const short = writeFile(join(dir, 'short-images-idx3-ubyte'), idxBytes([5, 4, 4], ramp(50)));
  expectDataError(() => openIdx(short, 'train', 'x'), short, /truncated: dimensions 5×4×4 need 80 bytes of data, the file has 50/);
  const long = writeFile(join(dir, 'long-images-idx3-ubyte'), idxBytes([1, 4, 4], ramp(20)));
  expectDataError(() => openIdx(long, 'train', 'x'), long, /4 bytes after the 1×4×4 data/);
  const header = writeFile(join(dir, 'header-images-idx3-ubyte'), idxBytes([1, 4, 4], ramp(0)).subarray(0, 10));
  expectDataError(() => openIdx(header, 'train', 'x'), header, /truncated: the header needs 16 bytes, the file has 10/);
});

test('an IDX of floats, and of the wrong rank', () => {
  const floats = writeFile(join(dir, 'float-images-idx3-ubyte'), idxBytes([1, 2, 2], ramp(16), 0x0d));
  expectDataError(() => openIdx(floats, 'train', 'x'), floats, /IDX element type f32 is not supported/);
  const flat = writeFile(join(dir, 'flat-images-idx3-ubyte'), idxBytes([16], ramp(16)));
  expectDataError(() => openIdx(flat, 'train', 'x'), flat, /images must have 3 dimensions/);
});

test('labels and images disagree in count', () => {
  const images = writeFile(join(dir, 'pair-images-idx3-ubyte'), idxBytes([5, 2, 2], ramp(20)));
  const labels = writeFile(join(dir, 'pair-labels-idx1-ubyte'), idxBytes([4], ramp(4)));
  expectDataError(() => openIdx(images, 'train', 'x'), labels, new RegExp(`has 4 labels but .*pair-images-idx3-ubyte has 5 images`));
});

test('the wrong channel count: stored channels, and what the spec asks for', () => {
  const two = writeFile(join(dir, 'two-images-idx3-ubyte'), idxBytes([1, 2, 2, 2], ramp(8)));
  expectDataError(() => openIdx(two, 'train', 'x'), two, /images have 2 channels; 1 or 3 are supported/);
  const gray = writeFile(join(dir, 'gray-images-idx3-ubyte'), idxBytes([2, 4, 4], ramp(32)));
  expectDataError(() => openDataset({ ...idx, path: gray, channels: 3 }), gray, /images have 1 channel but data.channels is 3; set data.channels: 1/);
});

test('a source that needs a path has none', () => {
  expectDataError(() => openDataset(idx), 'data.path', /the idx source needs a path/);
});

test('a missing image folder, a file in its place, no classes, an empty class', () => {
  const missing = join(dir, 'no-such-folder');
  expectDataError(() => openImageFolder(missing, 8, 1), missing, /folder not found/);
  const file = writeFile(join(dir, 'a-file'), 'x');
  expectDataError(() => openImageFolder(file, 8, 1), file, /is not a folder/);
  const flat = join(dir, 'flat');
  writeFile(join(flat, 'x.png'), 'x');
  expectDataError(() => openImageFolder(flat, 8, 1), flat, /has no class sub-folders/);
  const empty = join(dir, 'with-empty');
  writeFile(join(empty, 'a', 'one.png'), encodePng({ width: 2, height: 2, data: new Uint8Array(4), channels: 1 }));
  writeFile(join(empty, 'b', 'readme.txt'), 'no images here');
  expectDataError(() => openImageFolder(empty, 8, 1), join(empty, 'b'), /class folder has no PNG or JPEG images/);
});

test('unreadable images: garbage, a truncated PNG, a truncated JPEG', () => {
  const root = join(dir, 'broken');
  const good = encodePng({ width: 8, height: 8, data: ramp(64), channels: 1 });
  writeFile(join(root, 'a', 'good.png'), good);
  const garbage = writeFile(join(root, 'b', 'garbage.png'), 'definitely not a png');
  expectDataError(() => openImageFolder(root, 4, 1), garbage, /unreadable PNG image/);
  writeFile(garbage, good);
  const cutPng = writeFile(join(root, 'b', 'cut.png'), good.subarray(0, good.length - 30));
  expectDataError(() => openImageFolder(root, 4, 1), cutPng, /unreadable PNG image/);
  writeFile(cutPng, good);
  const jpg = jpeg.encode({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 4).fill(128) }, 90).data;
  const cutJpeg = writeFile(join(root, 'b', 'cut.jpg'), jpg.subarray(0, jpg.length - 40));
  expectDataError(() => openImageFolder(root, 4, 1), cutJpeg, /unreadable JPEG image/);
});

test('fewer images than one batch', () => {
  const ds = openSynthetic({ count: 10, size: 8 });
  expectDataError(() => new BatchLoader(ds, { batchSize: 16, seed: 0 }), ds.name, /has 10 images, fewer than one batch of 16/);
});

test.run();
