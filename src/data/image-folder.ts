// Image folders in the ImageFolder layout: one sub-folder per class (sorted names → labels 0, 1, …),
// PNG and JPEG files inside, each decoded, converted to the wanted channels, centre-cropped to a
// square and resized on load. Other files (READMEs, .DS_Store) are skipped.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { DataError, type Dataset } from './dataset.js';
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
