// Runs test/dist/worker-script.ts under mpirun for the multi-process tests. MPI missing is a failure
// naming the fix, never a skip: CI runs `npm run setup` first, so these tests always run there.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADDON_PATH } from '../../src/dist/mpi.js';
import { findMpirun, localLaunch } from '../../src/dist/launch.js';

export const WORKER = fileURLToPath(new URL('./worker-script.js', import.meta.url));

export function requireMpi(): void {
  if (!findMpirun()) throw new Error('mpirun not found: run `npm run setup` (installs Open MPI) before the tests');
  if (!existsSync(ADDON_PATH)) throw new Error(`MPI addon not built (${ADDON_PATH}): run \`npm run setup\` before the tests`);
}

/** Every JSON line the ranks printed, sorted by rank; throws with mpirun's output when it failed. */
export function runRanks(np: number, mode: string): Record<string, any>[] {
  requireMpi();
  const launch = localLaunch(np, [process.execPath, WORKER, mode]);
  const run = spawnSync(launch.file, launch.args, { env: launch.env, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`mpirun -np ${np} ${mode} exited ${run.status ?? run.signal}\n${run.stdout}\n${run.stderr}`);
  const rows = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return rows.sort((a, b) => a.rank - b.rank);
}

export interface Started {
  lines: Record<string, any>[];
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
  /** Resolves when `count` JSON lines matching `pred` have been printed. */
  waitFor(pred: (row: Record<string, any>) => boolean, count: number, ms: number): Promise<Record<string, any>[]>;
  kill(): void;
}

export function startRanks(np: number, mode: string): Started {
  requireMpi();
  const launch = localLaunch(np, [process.execPath, WORKER, mode]);
  const child = spawn(launch.file, launch.args, { env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, any>[] = [];
  let text = '';
  let pending = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk;
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l));
    waiters.forEach((w) => w());
  });
  child.stderr.on('data', (chunk: Buffer) => (text += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  return {
    lines,
    output: () => text,
    exited,
    waitFor: (pred, count, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${count} lines\n${text}`)), ms);
        const check = () => {
          const hits = lines.filter(pred);
          if (hits.length >= count) {
            clearTimeout(timer);
            resolve(hits);
          }
        };
        waiters.push(check);
        check();
      }),
    kill: () => {
      if (child.exitCode === null) spawnSync('kill', ['-9', String(child.pid)]);
    },
  };
}
