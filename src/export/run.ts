// A finished run folder as the exporters read it: its resolved spec and the encoder's weights, with
// every missing or broken file turned into a coded error naming it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedSpec } from '../spec/index.js';
import { CheckpointError, readCheckpoint } from '../train/checkpoint.js';
import { FILES, readRunSpec } from '../train/run-folder.js';
import { RunFolderError } from './errors.js';

export function runSpec(dir: string): ResolvedSpec {
  if (!existsSync(join(dir, FILES.spec))) throw new RunFolderError('E0501', `${dir} is not a run folder: it has no ${FILES.spec} (write one with \`simclr-compile run SPEC --out ${dir}\`)`);
  try {
    return readRunSpec(dir);
  } catch (err) {
    throw new RunFolderError('E0501', `${join(dir, FILES.spec)} is not valid JSON (${(err as Error).message})`);
  }
}

/** The tensors of checkpoint.safetensors (the trained weights) or init.safetensors (random init). */
export function runWeights(dir: string, which: 'checkpoint' | 'init' = 'checkpoint'): Record<string, Float32Array> {
  const path = join(dir, FILES[which]);
  if (!existsSync(path)) throw new RunFolderError('E0501', `${dir} has no ${FILES[which]}: the run has not written its ${which === 'init' ? 'initial weights' : 'checkpoint'} yet`);
  try {
    return Object.fromEntries(Object.entries(readCheckpoint(path).tensors).map(([name, t]) => [name, t.data]));
  } catch (err) {
    if (err instanceof CheckpointError) throw new RunFolderError('E0501', err.message);
    throw err;
  }
}
