// The run folder: everything a run leaves behind, under names a person and a tool can find.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedSpec } from '../spec/index.js';

export const FILES = {
  spec: 'spec.json',
  checkpoint: 'checkpoint.safetensors',
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

/** Small files are replaced whole (write, then rename), like checkpoints, so a reader never sees half. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

export function writeJson(path: string, value: unknown): void {
  writeAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readRunSpec(dir: string): ResolvedSpec {
  const path = join(dir, FILES.spec);
  if (!existsSync(path)) throw new Error(`${dir} is not a run folder: it has no ${FILES.spec}`);
  return JSON.parse(readFileSync(path, 'utf8')) as ResolvedSpec;
}
