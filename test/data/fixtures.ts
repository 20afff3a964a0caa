// Small data files written at test time into a fresh temporary folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `simclr-${prefix}-`));
}

/** An IDX file of unsigned bytes (type 0x08) with the given dimensions. */
export function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

export function writeFile(path: string, bytes: Uint8Array | string, gzip = false): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}

export function ramp(count: number, mod = 251): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (i * 7) % mod);
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A PNG written by hand, for the formats the encoder we use cannot make: low bit depths and
 * palettes (colour type 0 gray, 3 indexed). `rows` are the already-packed scanlines.
 */
export function handPng(width: number, height: number, depth: number, colourType: number, rows: Uint8Array[], palette?: number[][]): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([depth, colourType, 0, 0, 0], 8);
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (palette) parts.push(chunk('PLTE', Uint8Array.from(palette.flat())));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
