// Image folders in the ImageFolder layout: one sub-folder per class (sorted names → labels 0, 1, …),
// PNG and JPEG files inside, each decoded, converted to the wanted channels, centre-cropped to a
// square and resized on load. Other files (READMEs, .DS_Store) are skipped.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { DataError, imageBytes, type Dataset } from './dataset.js';
import { mixSeed, permutation, Rng } from './rng.js';
import { centreSquare, toPlanar, type Interleaved } from './pixels.js';

const KINDS: Record<string, 'png' | 'jpeg'> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' };

/** Refuse images whose decoded size would exhaust memory (a crafted or mislabelled file). */
const MAX_MEGAPIXELS = 64;

export function decodeImage(path: string): Interleaved {
  const kind = KINDS[extname(path).toLowerCase()];
  if (!kind) throw new DataError(path, 'not a PNG or JPEG file');
  const bytes = readFileSync(path);
  try {
    return kind === 'png' ? fromPng(bytes) : fromJpeg(bytes);
  } catch (err) {
    throw new DataError(path, `unreadable ${kind === 'png' ? 'PNG' : 'JPEG'} image (${(err as Error).message})`);
  }
}

function fromPng(bytes: Uint8Array): Interleaved {
  const png = decodePng(bytes);
  if (png.width * png.height > MAX_MEGAPIXELS * 1e6) throw new Error(`${png.width}×${png.height} is larger than ${MAX_MEGAPIXELS} megapixels`);
  if (png.palette) {
    const data = convertIndexedToRgb(png);
    return { data, width: png.width, height: png.height, channels: png.palette[0].length };
  }
  return { data: to8Bit(png.data, png.depth, png.width, png.height), width: png.width, height: png.height, channels: png.channels };
}

/** 16-bit samples keep their high byte; 1/2/4-bit gray (packed, each row byte-aligned) is spread to 0–255. */
function to8Bit(data: Uint8Array | Uint8ClampedArray | Uint16Array, depth: number, width: number, height: number): Uint8Array {
  if (depth === 8) return data instanceof Uint8Array ? data : Uint8Array.from(data);
  if (depth === 16) return Uint8Array.from(data, (v) => v >> 8);
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const v = (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
      out[y * width + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}

function fromJpeg(bytes: Uint8Array): Interleaved {
  // Tolerant decoding would hand back a half-grey picture for a truncated file: refuse instead.
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: MAX_MEGAPIXELS });
  const channels = img.data.length / (img.width * img.height);
  if (channels !== 1 && channels !== 3) throw new Error(`${channels} colour components are not supported`);
  return { data: img.data, width: img.width, height: img.height, channels };
}

function listDir(path: string): string[] {
  return readdirSync(path).filter((n) => !n.startsWith('.')).sort();
}

/** Every image of the folder as one Dataset of size × size images with `channels` channels. */
export function openImageFolder(path: string, size: number, channels: 1 | 3): Dataset {
  if (!existsSync(path)) throw new DataError(path, 'folder not found');
  if (!statSync(path).isDirectory()) throw new DataError(path, 'is not a folder (an image folder holds one sub-folder of images per class)');
  const classes = listDir(path).filter((n) => statSync(join(path, n)).isDirectory());
  if (!classes.length) throw new DataError(path, 'has no class sub-folders (expected FOLDER/CLASS/IMAGE.png|jpg)');
  const files: { file: string; label: number }[] = [];
  classes.forEach((cls, label) => {
    const images = listDir(join(path, cls)).filter((n) => KINDS[extname(n).toLowerCase()]);
    if (!images.length) throw new DataError(join(path, cls), 'class folder has no PNG or JPEG images');
    for (const n of images) files.push({ file: join(path, cls, n), label });
  });
  const bytes = channels * size * size;
  const images = new Uint8Array(files.length * bytes);
  const labels = new Int32Array(files.length);
  files.forEach(({ file, label }, i) => {
    const img = decodeImage(file);
    const planar = toPlanar(img, channels);
    images.set(centreSquare(planar, channels, img.height, img.width, size), i * bytes);
    labels[i] = label;
  });
  return { images, labels, count: files.length, channels, height: size, width: size, name: path, classes };
}

/** The share of each class an image folder without train/ and test/ holds out for evaluation. */
export const HELD_OUT_FRACTION = 0.2;
/**
 * Fixed rather than the run's seed: every run over the folder holds out the same images, so no
 * run's encoder has trained on another run's evaluation images.
 */
const HELD_OUT_SEED = 0x5eed;

/**
 * One side of a seeded, class-stratified split of a folder's images: of each class with two or more
 * images, HELD_OUT_FRACTION (at least one) goes to the test side. Without it the kNN memory bank
 * would hold the very images it is queried with and the probe would be scored on its training set.
 */
export function carveSplit(ds: Dataset, split: 'train' | 'test'): Dataset {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < ds.count; i++) {
    const label = ds.labels![i];
    byClass.set(label, [...(byClass.get(label) ?? []), i]);
  }
  const sides: Record<'train' | 'test', number[]> = { train: [], test: [] };
  for (const [label, members] of byClass) {
    const order = permutation(members.length, new Rng(mixSeed(HELD_OUT_SEED, label)));
    const held = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * HELD_OUT_FRACTION));
    order.forEach((k, j) => sides[j < held ? 'test' : 'train'].push(members[k]));
  }
  if (!sides.test.length) throw new DataError(ds.name, 'has no class with two or more images to hold one out for evaluation; give it train/ and test/ sub-folders, or more images');
  const chosen = sides[split].sort((a, b) => a - b);
  const size = imageBytes(ds);
  const images = new Uint8Array(chosen.length * size);
  chosen.forEach((i, k) => images.set(ds.images.subarray(i * size, (i + 1) * size), k * size));
  return {
    ...ds,
    images,
    labels: Int32Array.from(chosen, (i) => ds.labels![i]),
    count: chosen.length,
    name: `${ds.name} (${split}, held-out split)`,
    heldOut: { train: sides.train.length, test: sides.test.length },
  };
}
