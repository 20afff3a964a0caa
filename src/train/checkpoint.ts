// Checkpoints in safetensors: an 8-byte little-endian header length, a JSON header (each tensor's
// dtype, shape and [begin, end) byte offsets into the data, plus string `__metadata__`), then the raw
// little-endian data. Written to a temporary file in the same folder, flushed to disk, then renamed
// over the old one, so a crash leaves either the old checkpoint or the new one, never half of one.
// A run keeps the one before the latest too, so a latest one damaged on disk is not the end of it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import { CodedError } from '../spec/index.js';
import { syncFolder, writeFlushed } from './run-folder.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  tensors: Record<string, Tensor>;
  /** safetensors metadata holds strings only: numbers and objects are the caller's to encode. */
  metadata: Record<string, string>;
}

export class CheckpointError extends CodedError {
  constructor(
    readonly path: string,
    detail: string,
    code: 'E0509' | 'E0502' = 'E0509',
  ) {
    super(code, path, detail);
    this.name = 'CheckpointError';
  }
}

/** Metadata key of the SHA-256 of the data section: catches flipped bytes that sizes cannot. */
const DIGEST_KEY = 'data_sha256';
/** A header larger than this is corruption, not a real checkpoint (safetensors uses the same bound). */
const MAX_HEADER = 100 << 20;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The checkpoint's bytes: header padded with spaces to 8 bytes so the data stays aligned. */
export function encodeCheckpoint({ tensors, metadata }: Checkpoint): Uint8Array {
  const names = Object.keys(tensors).sort();
  const entries: Record<string, HeaderEntry> = {};
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new RangeError(`tensor ${name}: shape [${shape}] holds ${count} values but its data has ${data.length}`);
    entries[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  const body = new Uint8Array(offset);
  for (const name of names) {
    const { data } = tensors[name];
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), entries[name].data_offsets[0]);
  }
  const digest = createHash('sha256').update(body).digest('hex');
  const json = JSON.stringify({ __metadata__: { ...metadata, [DIGEST_KEY]: digest }, ...entries });
  const headerLength = Math.ceil(Buffer.byteLength(json) / 8) * 8;
  const out = new Uint8Array(8 + headerLength + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  Buffer.from(out.buffer, 8, headerLength).write(json, 'utf8');
  out.set(body, 8 + headerLength);
  return out;
}

/** Writes the checkpoint next to `path` under a temporary name, flushed to disk; returns that name. */
export function writeTemporary(path: string, checkpoint: Checkpoint): string {
  const bytes = encodeCheckpoint(checkpoint);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFlushed(temporary, bytes, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
  return temporary;
}

/**
 * Atomically replaces `path` with the temporary file, and makes the rename itself durable. With
 * `previous`, the checkpoint being replaced moves there first: a crash between the two renames
 * leaves no latest one, and the reader falls back to the previous.
 */
export function commitTemporary(temporary: string, path: string, previous?: string): void {
  if (previous && existsSync(path)) renameSync(path, previous);
  renameSync(temporary, path);
  syncFolder(dirname(path));
}

export function writeCheckpoint(path: string, checkpoint: Checkpoint, previous?: string): void {
  let temporary: string | undefined;
  try {
    temporary = writeTemporary(path, checkpoint);
    commitTemporary(temporary, path, previous);
  } catch (err) {
    if (temporary) rmSync(temporary, { force: true });
    throw err;
  }
  removeStaleTemporaries(path);
}

/** Temporaries of `path` left by a process killed between write and rename. */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  for (const name of readdirSync(dirname(path))) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(join(dirname(path), name), { force: true });
  }
}

export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * The latest checkpoint, or the previous one when the latest is unreadable (corrupted on disk, or
 * lost between the renames of a write): `warn` says which, and why. With no good previous one the
 * latest's error stands.
 */
export function readLatestCheckpoint(path: string, previous: string, warn: (text: string) => void): { checkpoint: Checkpoint; path: string } {
  try {
    return { checkpoint: readCheckpoint(path), path };
  } catch (err) {
    if (!(err instanceof CheckpointError) || !existsSync(previous)) throw err;
    let older: Checkpoint;
    try {
      older = readCheckpoint(previous);
    } catch {
      throw err;
    }
    warn(`warning: ${err.message}; continuing from the previous checkpoint ${previous} (step ${older.metadata.step})`);
    return { checkpoint: older, path: previous };
  }
}

/**
 * A checkpoint must hold every parameter and state tensor of the network it is loaded into, in its
 * shape: one written by another spec would otherwise leave the missing ones at random init, and
 * the run or evaluation would go on as if nothing were wrong.
 */
export function checkTensors(path: string, checkpoint: Checkpoint, graph: Graph): void {
  for (const t of graph.named()) {
    if (t.role !== 'param' && t.role !== 'state') continue;
    const found = checkpoint.tensors[t.name!];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!found) throw new CheckpointError(path, `has no tensor ${t.name} [${t.shape}], which the spec's network needs: the checkpoint was written for another network`, 'E0502');
    if (found.data.length !== count) throw new CheckpointError(path, `tensor ${t.name} has shape [${found.shape}] but the spec's network needs [${t.shape}]`, 'E0502');
  }
}

export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  const fail = (detail: string): never => {
    throw new CheckpointError(path, `${detail}: not a valid safetensors checkpoint (corrupted or truncated)`);
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) fail(`the header claims ${headerLength} bytes but the file has ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`the header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const { __metadata__: rawMetadata = {}, ...rawEntries } = header;
  const metadata = checkMetadata(rawMetadata, fail);
  const spans: [number, number, string][] = [];
  const tensors: Record<string, Tensor> = {};
  for (const [name, raw] of Object.entries(rawEntries)) {
    const entry = raw as Partial<HeaderEntry>;
    if (entry?.dtype !== 'F32') fail(`tensor ${name} has dtype ${String(entry?.dtype)}; only F32 is supported`);
    const shape = entry.shape;
    const offsets = entry.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) fail(`tensor ${name} has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * count) fail(`tensor ${name}: shape [${String(shape)}] needs ${4 * count} bytes, its offsets span ${end - begin}`);
    if (end > dataLength) fail(`tensor ${name} ends at byte ${end} of the data but the data has ${dataLength} bytes`);
    spans.push([begin, end, name]);
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = { shape: shape as number[], data: new Float32Array(copy.buffer) };
  }
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) fail(`tensor ${name} starts at byte ${begin}, expected ${covered} (overlap or gap)`);
    covered = end;
  }
  if (covered !== dataLength) fail(`the tensors cover ${covered} bytes of data but the file holds ${dataLength}`);
  const { [DIGEST_KEY]: digest, ...userMetadata } = metadata;
  if (digest !== undefined && createHash('sha256').update(bytes.subarray(dataStart)).digest('hex') !== digest) {
    fail('the tensor data does not match its checksum');
  }
  return { tensors, metadata: userMetadata };
}

function checkMetadata(raw: unknown, fail: (detail: string) => never): Record<string, string> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('__metadata__ is not an object');
  for (const [key, value] of Object.entries(raw)) if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`);
  return raw as Record<string, string>;
}
