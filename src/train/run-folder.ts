// The run folder: everything a run leaves behind, under names a person and a tool can find. Every
// file of it that is read back is validated, and a problem names the file with a coded error.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CodedError, formatSpec, hasErrors, loadSpecText, type ResolvedSpec } from '../spec/index.js';

export const FILES = {
  spec: 'spec.json',
  checkpoint: 'checkpoint.safetensors',
  /** The checkpoint before the latest: what a resume falls back to when the latest is corrupt. */
  previous: 'checkpoint.previous.safetensors',
  init: 'init.safetensors',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  curves: 'curves.png',
  augs: 'augs.png',
} as const;

/** runs/NAME-20261128-101500 under the spec's train.out, unless a folder is given. */
export function newRunFolder(spec: ResolvedSpec, given?: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const dir = given ?? join(spec.train.out, `${spec.name}-${stamp}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Writes all of `bytes` to `fd`: a write may take fewer bytes than asked (a full disk, a signal),
 * and one that takes none, or fails, is an error naming the file rather than a silently short file.
 */
export function writeAll(fd: number, bytes: Uint8Array, path: string): void {
  let done = 0;
  while (done < bytes.length) {
    let n: number;
    try {
      n = writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      throw new CodedError('E0507', path, `writing failed after ${done} of ${bytes.length} bytes (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (n <= 0) throw new CodedError('E0507', path, `only ${done} of ${bytes.length} bytes were written`);
    done += n;
  }
}

/** Writes `bytes` beside `path` under `temporary`, all of them, flushed to disk. */
export function writeFlushed(temporary: string, bytes: Uint8Array, path: string): void {
  const fd = openSync(temporary, 'w');
  try {
    writeAll(fd, bytes, path);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename in `dir` durable; some file systems refuse to fsync a folder, and the rename is still atomic there. */
export function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // See above: nothing more can be done on such a file system.
  }
}

/** Files are replaced whole (write, flush, then rename), like checkpoints, so a reader never sees half. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFlushed(temporary, typeof data === 'string' ? Buffer.from(data) : data, path);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
  syncFolder(dirname(path));
}

export function writeJson(path: string, value: unknown): void {
  writeAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The run's resolved spec, read back through the spec front end so a hand-edited or damaged
 * spec.json is reported like a spec error (the first problems, naming spec.json) instead of
 * failing later inside the trainer. A resolved spec resolves to itself: a field that defaults
 * would fill in (a deleted section) is a damaged file too, since the run was trained without it.
 */
export function readRunSpec(dir: string): ResolvedSpec {
  const path = join(dir, FILES.spec);
  if (!existsSync(path)) throw new CodedError('E0501', dir, `not a run folder: it has no ${FILES.spec}`);
  const fail = (detail: string): never => {
    throw new CodedError('E0508', path, `${detail}; the run cannot continue from it (start a new run from the spec file)`);
  };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return fail('not a JSON object');
  let text: string;
  try {
    text = formatSpec(value as ResolvedSpec, 'simclr');
  } catch (err) {
    return fail(`not a spec (${(err as Error).message})`);
  }
  const loaded = loadSpecText(text, path);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (!loaded.spec || hasErrors(loaded.diagnostics)) {
    return fail(`not a valid resolved spec: ${errors.slice(0, 3).map((d) => d.message).join('; ') || 'no spec came out of it'}`);
  }
  const field = firstDifference(value, JSON.parse(JSON.stringify(loaded.spec)), '');
  if (field !== undefined) fail(`not a resolved spec: ${field || 'the spec'} is missing or differs from what it resolves to`);
  return value as ResolvedSpec;
}

/** The dotted path of the first place two JSON values differ, or undefined when they are equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return a === b ? undefined : path;
}
