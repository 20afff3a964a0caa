// IDX files (the MNIST family's format), gzipped or not: a 4-byte magic (0, 0, type, rank), one
// big-endian u32 per dimension, then the samples. Images are unsigned bytes (N, H, W) or (N, H, W, C).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError, type Dataset } from './dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const TYPE_NAMES: Record<number, string> = { 0x08: 'u8', 0x09: 'i8', 0x0b: 'i16', 0x0c: 'i32', 0x0d: 'f32', 0x0e: 'f64' };

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new DataError(path, 'file not found');
  if (!statSync(path).isFile()) throw new DataError(path, 'is not a file');
  const raw = readFileSync(path);
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw new DataError(path, `corrupt or truncated gzip data (${(err as Error).message})`);
  }
}

/** Reads one IDX file of unsigned bytes, validating the magic, the dimensions and the length. */
export function readIdx(path: string): IdxArray {
  const bytes = readBytes(path);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(path, 'not an IDX file (its first two bytes must be zero)');
  }
  const type = bytes[2];
  const rank = bytes[3];
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    throw new DataError(path, name ? `IDX element type ${name} is not supported (images and labels must be unsigned bytes)` : `unknown IDX element type 0x${type.toString(16)}`);
  }
  if (rank < 1 || rank > 4) throw new DataError(path, `IDX rank ${rank} is not supported (1 to 4)`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new DataError(path, `truncated: the header needs ${header} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - header;
  if (found < expected) throw new DataError(path, `truncated: dimensions ${dims.join('×')} need ${expected} bytes of data, the file has ${found}`);
  if (found > expected) throw new DataError(path, `${found - expected} bytes after the ${dims.join('×')} data: not a valid IDX file`);
  return { dims, data: bytes.subarray(header) };
}

/** An IDX image file (and, if given, its label file) as a Dataset. */
export function readIdxDataset(imagesPath: string, labelsPath: string | undefined, name: string): Dataset {
  const images = readIdx(imagesPath);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataError(imagesPath, `images must have 3 dimensions (N, H, W) or 4 (N, H, W, C); this file has ${images.dims.length}`);
  }
  const [count, height, width, channels = 1] = images.dims;
  if (channels !== 1 && channels !== 3) throw new DataError(imagesPath, `images have ${channels} channels; 1 or 3 are supported`);
  const data = channels === 1 ? images.data : channelFirst(images.data, count, height * width, channels);
  let labels: Int32Array | undefined;
  if (labelsPath) {
    const l = readIdx(labelsPath);
    if (l.dims.length !== 1) throw new DataError(labelsPath, `labels must have 1 dimension; this file has ${l.dims.length}`);
    if (l.dims[0] !== count) {
      throw new DataError(labelsPath, `has ${l.dims[0]} labels but ${imagesPath} has ${count} images`);
    }
    labels = Int32Array.from(l.data);
  }
  return { images: data, labels, count, channels, height, width, name };
}

function channelFirst(hwc: Uint8Array, count: number, plane: number, channels: number): Uint8Array {
  const out = new Uint8Array(hwc.length);
  for (let n = 0; n < count; n++) {
    const base = n * plane * channels;
    for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[base + c * plane + p] = hwc[base + p * channels + c];
  }
  return out;
}

/** `{train|t10k}-images-idx3-ubyte[.gz]` in a folder, as MNIST and Fashion-MNIST ship them. */
function findInFolder(dir: string, prefix: string, kind: 'images-idx3' | 'labels-idx1'): string | undefined {
  const stem = join(dir, `${prefix}-${kind}-ubyte`);
  return [stem, `${stem}.gz`].find((p) => existsSync(p));
}

/**
 * An IDX data set from a folder in the MNIST layout or from one image file. For a file, labels are
 * read from the sibling whose name has `labels-idx1` for `images-idx3`, when there is one.
 */
export function openIdx(path: string, split: 'train' | 'test', name: string): Dataset {
  if (!existsSync(path)) throw new DataError(path, 'not found (an IDX image file or a folder holding train-/t10k-images-idx3-ubyte[.gz])');
  if (statSync(path).isDirectory()) {
    const prefix = split === 'train' ? 'train' : 't10k';
    const images = findInFolder(path, prefix, 'images-idx3');
    if (!images) throw new DataError(join(path, `${prefix}-images-idx3-ubyte.gz`), `file not found (the ${split} images of this folder)`);
    return readIdxDataset(images, findInFolder(path, prefix, 'labels-idx1'), `${name} (${split})`);
  }
  const siblingName = basename(path).replace('images-idx3', 'labels-idx1');
  const sibling = siblingName !== basename(path) ? join(dirname(path), siblingName) : undefined;
  return readIdxDataset(path, sibling && existsSync(sibling) ? sibling : undefined, name);
}
