import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, readCheckpoint, readLatestCheckpoint, writeCheckpoint, writeTemporary, type Checkpoint } from '../../src/train/checkpoint.js';
import { writeAll } from '../../src/train/run-folder.js';

const dir = mkdtempSync(join(tmpdir(), 'simclr-ckpt-'));

function sample(step: number): Checkpoint {
  return {
    tensors: {
      'encoder.conv0.weight': { shape: [4, 1, 3, 3], data: Float32Array.from({ length: 36 }, (_, i) => Math.sin(i + step)) },
      'head.linear1.bias': { shape: [3], data: Float32Array.from([step, -0.5, 1e-30]) },
      'optimizer.momentum.encoder.conv0.weight': { shape: [4, 1, 3, 3], data: new Float32Array(36).fill(step / 7) },
      'scalar': { shape: [], data: Float32Array.from([Math.PI]) },
    },
    metadata: { step: String(step), epoch: '2', rng: JSON.stringify({ loader: 12345, augment: [1, 2] }), spec_hash: 'abc123' },
  };
}

function expectCorrupt(path: string, detail: RegExp): void {
  try {
    readCheckpoint(path);
  } catch (err) {
    assert.instance(err, CheckpointError);
    assert.match((err as Error).message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    assert.match((err as Error).message, detail);
    assert.match((err as Error).message, /corrupted or truncated/);
    return;
  }
  assert.unreachable('no error');
}

test('round trip: tensors bit for bit, shapes and metadata', () => {
  const path = join(dir, 'round.safetensors');
  writeCheckpoint(path, sample(5));
  const back = readCheckpoint(path);
  const want = sample(5);
  assert.equal(back.metadata, want.metadata);
  assert.equal(Object.keys(back.tensors).sort(), Object.keys(want.tensors).sort());
  for (const [name, t] of Object.entries(want.tensors)) {
    assert.equal(back.tensors[name].shape, t.shape, name);
    assert.equal(Array.from(back.tensors[name].data), Array.from(t.data), name);
  }
});

test('the file is safetensors: u64 LE header length, JSON header, 8-byte aligned F32 LE data', () => {
  const path = join(dir, 'layout.safetensors');
  writeCheckpoint(path, { tensors: { w: { shape: [2], data: Float32Array.from([1.5, -2]) } }, metadata: { step: '1' } });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.is(n % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.equal(header.w, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
  assert.is(header.__metadata__.step, '1');
  assert.is(bytes.length, 8 + n + 8);
  assert.is(bytes.readFloatLE(8 + n), 1.5);
  assert.is(bytes.readFloatLE(8 + n + 4), -2);
});

test('truncated files give a clear error', () => {
  const path = join(dir, 'whole.safetensors');
  writeCheckpoint(path, sample(1));
  const bytes = readFileSync(path);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
  expectCorrupt(cut, /ends at byte \d+ of the data but the data has \d+ bytes/);
  writeFileSync(cut, bytes.subarray(0, 100));
  expectCorrupt(cut, /the header claims \d+ bytes but the file has 100/);
  writeFileSync(cut, bytes.subarray(0, 5));
  expectCorrupt(cut, /only 5 bytes/);
});

test('corrupted header or data gives a clear error', () => {
  const bytes = readFileSync(join(dir, 'whole.safetensors'));
  const bad = join(dir, 'bad.safetensors');
  const header = Buffer.from(bytes);
  header[8] = 0x78; // the opening brace of the JSON becomes an 'x'
  writeFileSync(bad, header);
  expectCorrupt(bad, /the header is not JSON/);
  const data = Buffer.from(bytes);
  data[data.length - 3] ^= 0x40;
  writeFileSync(bad, data);
  expectCorrupt(bad, /does not match its checksum/);
  const extra = Buffer.concat([bytes, Buffer.from([1, 2, 3, 4])]);
  writeFileSync(bad, extra);
  expectCorrupt(bad, /the tensors cover \d+ bytes of data but the file holds \d+/);
});

test('a missing checkpoint names the file', () => {
  const path = join(dir, 'none.safetensors');
  assert.throws(() => readCheckpoint(path), (err: Error) => err instanceof CheckpointError && err.message.startsWith(`${path}: error E0509: cannot read the checkpoint (ENOENT)`));
});

test('a write interrupted before the rename leaves the previous checkpoint intact', () => {
  const folder = mkdtempSync(join(tmpdir(), 'simclr-ckpt-crash-'));
  const path = join(folder, 'latest.safetensors');
  writeCheckpoint(path, sample(10));
  // The process dies after the new file is on disk but before it replaces the old one.
  const temporary = writeTemporary(path, sample(20));
  assert.is(readCheckpoint(temporary).metadata.step, '20');
  assert.is(readCheckpoint(path).metadata.step, '10');
  assert.equal(Array.from(readCheckpoint(path).tensors['head.linear1.bias'].data), Array.from(sample(10).tensors['head.linear1.bias'].data));
  // The next process's successful write replaces the checkpoint and clears what the dead one left.
  renameSync(temporary, join(folder, '.latest.safetensors.99999.tmp'));
  writeCheckpoint(path, sample(30));
  assert.is(readCheckpoint(path).metadata.step, '30');
  assert.equal(readdirSync(folder), ['latest.safetensors']);
});

test('a write that fails part way leaves the previous checkpoint and no temporary file', () => {
  const folder = mkdtempSync(join(tmpdir(), 'simclr-ckpt-fail-'));
  const path = join(folder, 'latest.safetensors');
  writeCheckpoint(path, sample(3));
  const broken = sample(4);
  broken.tensors['head.linear1.bias'] = { shape: [5], data: new Float32Array(3) };
  assert.throws(() => writeCheckpoint(path, broken), /shape \[5\] holds 5 values but its data has 3/);
  assert.is(readCheckpoint(path).metadata.step, '3');
  assert.equal(readdirSync(folder), ['latest.safetensors']);
});

test('with a previous path the replaced checkpoint is kept beside the latest, and read when the latest is damaged', () => {
  const folder = mkdtempSync(join(tmpdir(), 'simclr-ckpt-prev-'));
  const path = join(folder, 'latest.safetensors');
  const previous = join(folder, 'previous.safetensors');
  writeCheckpoint(path, sample(8), previous);
  writeCheckpoint(path, sample(16), previous);
  assert.is(readCheckpoint(previous).metadata.step, '8');
  const warnings: string[] = [];
  assert.is(readLatestCheckpoint(path, previous, (w) => warnings.push(w)).checkpoint.metadata.step, '16');
  assert.equal(warnings, []);
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length - 7));
  const read = readLatestCheckpoint(path, previous, (w) => warnings.push(w));
  assert.equal([read.path, read.checkpoint.metadata.step], [previous, '8']);
  assert.match(warnings.join(''), /E0509.*continuing from the previous checkpoint/);
  // With both damaged, the latest's own error stands.
  writeFileSync(previous, 'x');
  assert.throws(() => readLatestCheckpoint(path, previous, () => {}), (err: Error) => err instanceof CheckpointError && err.message.startsWith(`${path}: error E0509`));
});

test('a write the disk refuses is a coded error naming the file, not a short file', () => {
  const fd = openSync('/dev/full', 'w');
  try {
    assert.throws(() => writeAll(fd, new Uint8Array(64), 'run/checkpoint.safetensors'), /^run\/checkpoint\.safetensors: error E0507: writing failed after 0 of 64 bytes \(ENOSPC\)/);
  } finally {
    closeSync(fd);
  }
});

test.run();
