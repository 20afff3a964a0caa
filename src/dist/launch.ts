// Starting a job of several processes on this host through Open MPI's mpirun.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export class MpirunNotFoundError extends Error {
  readonly code = 'E0407';
  constructor() {
    super('E0407 mpirun not found on PATH. Run `npm run setup` (installs Open MPI: openmpi-bin, libopenmpi-dev).');
    this.name = 'MpirunNotFoundError';
  }
}

export function findMpirun(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'mpirun');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** First line of `mpirun --version`, e.g. "mpirun (Open MPI) 4.1.4"; undefined when there is none. */
export function mpirunVersion(): string | undefined {
  const mpirun = findMpirun();
  if (!mpirun) return undefined;
  const out = spawnSync(mpirun, ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.split('\n')[0].trim() : undefined;
}

export interface Launch {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * mpirun starting `np` copies of `argv` on this host only: shared memory between the processes
 * (btl self,vader) and mpirun's own control channel on loopback, so nothing leaves the machine.
 * `--oversubscribe` allows more processes than cores (CI has two); `--bind-to none` keeps each
 * process's threads (libuv, Dawn, lavapipe) free to use every core instead of one.
 */
export function localLaunch(np: number, argv: string[], env: NodeJS.ProcessEnv = process.env): Launch {
  const file = findMpirun(env.PATH);
  if (!file) throw new MpirunNotFoundError();
  const args = ['--oversubscribe', '--bind-to', 'none', '-np', String(np), '--mca', 'btl', 'self,vader', '--mca', 'oob_tcp_if_include', 'lo', ...argv];
  // Open MPI refuses to start as root unless told twice; containers and CI run as root.
  const root = process.getuid?.() === 0 ? { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' } : {};
  return { file, args, env: { ...env, ...root } };
}
