// `simclr-compile run SPEC`: train, evaluate, write the run folder; `--resume DIR` continues a run.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { launchedUnderMpi, openCollectives } from '../../dist/collectives.js';
import { localLaunch } from '../../dist/launch.js';
import { follow } from '../../train/follow.js';
import { formatTable } from '../table.js';
import { runtime } from '../../gpu/runtime.js';
import { writeReport } from '../../report/report.js';
import { train, type RunSummary } from '../../train/trainer.js';
import { v2Rows } from './v2.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';
import { formatDiagnostic, isSpecError, specErrorDiagnostic } from '../../spec/index.js';

interface RunFlags {
  set: string[];
  out?: string;
  resume?: string;
  json?: boolean;
  stopAfter?: string;
  devices?: string;
}

export function registerRun(program: Command): void {
  addSetOption(
    program
      .command('run')
      .description('train a spec end to end: augment, train, checkpoint, evaluate (kNN / linear probe) and write the run folder')
      .argument('[spec]', '.simclr or .yml spec file (not needed with --resume)')
      .option('--out <dir>', 'run folder (default: train.out/NAME-TIMESTAMP)')
      .option('--resume <dir>', 'continue the run in this folder from its last checkpoint')
      .option('--stop-after <step>', 'stop after this global step with a checkpoint (continue later with --resume)')
      .option('--json', 'one JSON line per logged step on stdout, and the summary as JSON')
      .option('--devices <n>', 'train data-parallel on n processes of this host, one device each (starts mpirun; default: the spec\'s train.devices; under mpirun the job is already started)'),
  ).action(async (file: string | undefined, flags: RunFlags) => {
    if (!file && !flags.resume) throw new Error('run needs a spec file, or --resume DIR');
    const loaded = flags.resume ? undefined : loadOrReport(file!, flags.set);
    const spec = loaded?.spec;
    if (!flags.resume && !spec) return;
    const stopAfter = flags.stopAfter === undefined ? undefined : Number(flags.stopAfter);
    if (stopAfter !== undefined && !(Number.isInteger(stopAfter) && stopAfter > 0)) throw new Error(`--stop-after must be a positive step number, got ${flags.stopAfter}`);
    // The flag wins; else the spec's train.devices (a resumed run is started as asked, 1 by default).
    const devices = flags.devices === undefined ? (spec?.train.devices ?? 1) : Number(flags.devices);
    if (!(Number.isInteger(devices) && devices >= 1)) throw new Error(`--devices must be a positive number of processes, got ${flags.devices}`);
    if (devices > 1 && !launchedUnderMpi()) {
      process.exitCode = await launchJob(devices);
      return;
    }
    // A single process needs no MPI: openCollectives loads the addon only under mpirun.
    const collectives = await openCollectives();
    // In a job the launcher's Ctrl-C arrives as SIGUSR2, which mpirun forwards to every process
    // (SIGUSR1 is Node's debugger signal); every process then stops after the same step.
    const interrupts: NodeJS.Signals[] = collectives.size > 1 ? ['SIGINT', INTERRUPT] : ['SIGINT'];
    if (collectives.size > 1 && collectives.rank > 0) {
      const abort = new AbortController();
      const onInterrupt = () => abort.abort();
      for (const s of interrupts) process.on(s, onInterrupt);
      try {
        const ended = await follow(spec, { resume: flags.resume, stopAfter, signal: abort.signal }, collectives);
        collectives.finalize();
        if (ended === 'interrupted') {
          process.stderr.write(`simclr-compile: process ${collectives.rank}: interrupted with the job\n`);
          process.exitCode = 130;
        }
      } catch (err) {
        abortJob(collectives, err);
      } finally {
        for (const s of interrupts) process.off(s, onInterrupt);
      }
      return;
    }
    const abort = new AbortController();
    const onInterrupt = () => {
      // A second Ctrl-C leaves at once; the first lets the step finish and the checkpoint be written.
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    for (const s of interrupts) process.on(s, onInterrupt);
    try {
      let result: RunSummary;
      try {
        result = await train(spec, { out: flags.out, resume: flags.resume, json: flags.json, stopAfter, signal: abort.signal, collectives });
      } catch (err) {
        if (collectives.size > 1) abortJob(collectives, err);
        // A coded error about a spec field (a step that cannot fit, a shape) is shown where the field is.
        if (loaded && isSpecError(err) && err.specPath) {
          console.error(formatDiagnostic(specErrorDiagnostic(err, loaded.sources)));
          process.exitCode = 1;
          return;
        }
        throw err;
      }
      collectives.finalize();
      // The report reads the finished run folder: it comes after training, never inside it.
      if (result.status === 'finished') process.stderr.write(`wrote ${await writeReport(await runtime(), result.run_dir)}\n`);
      if (flags.json) console.log(JSON.stringify(result));
      else console.error(report(result));
      if (result.status === 'interrupted') process.exitCode = 130;
    } finally {
      for (const s of interrupts) process.off(s, onInterrupt);
    }
  });
}

/** What the launcher sends mpirun on Ctrl-C: mpirun forwards SIGUSR1 and SIGUSR2 to every process of the job. */
const INTERRUPT: NodeJS.Signals = 'SIGUSR2';

function report(r: RunSummary): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
  const rows = [
    ['steps', `${r.steps}/${r.total_steps}`],
    ['final loss', r.final_loss.toFixed(4)],
    ['images/s', String(r.images_per_s)],
    ['wall time', `${r.wall_s} s`],
  ];
  if (r.memory) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    rows.push([`step memory, ${r.memory.precision} (planned | measured peak)`, `${mib(r.memory.planned_bytes)} | ${mib(r.memory.measured_peak_bytes)}`]);
  }
  if (r.trained) {
    rows.push(['kNN top-1 (trained | random init)', `${pct(r.knn_top1)} | ${pct(r.random_init_knn_top1)}`]);
    rows.push(['linear top-1 (trained | random init)', `${pct(r.linear_top1)} | ${pct(r.random_init_linear_top1)}`]);
  }
  rows.push(...v2Rows(r));
  if (r.held_out) rows.push(['held-out split (train | test images)', `${r.held_out.train} | ${r.held_out.test}`]);
  rows.push(['run folder', r.run_dir]);
  return formatTable(rows);
}

/** This very command on `np` processes under mpirun on this host; resolves to mpirun's exit code. */
function launchJob(np: number): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === '--devices' || a.startsWith('--devices='));
  if (at >= 0) args.splice(at, args[at] === '--devices' ? 2 : 1);
  const launch = localLaunch(np, [process.execPath, process.argv[1], ...args]);
  // Its own process group: a terminal's Ctrl-C reaches this launcher alone, not mpirun (whose own
  // SIGINT kills the job at once, mid-step, with no checkpoint).
  const child = spawn(launch.file, launch.args, { env: launch.env, stdio: 'inherit', detached: true });
  let interrupted = false;
  const onInterrupt = () => {
    // The first Ctrl-C asks every process to finish its step and rank 0 to checkpoint; a second ends the job now.
    if (interrupted) {
      child.kill('SIGINT');
      return;
    }
    interrupted = true;
    process.stderr.write('\ninterrupted: every process finishes this step, then rank 0 writes a checkpoint (Ctrl-C again to quit now)\n');
    child.kill(INTERRUPT);
  };
  const onTerminate = () => child.kill('SIGTERM');
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      // Interrupted, the processes exit 130; mpirun passes on a failed process's code.
      if (interrupted && code !== 0) resolve(130);
      else resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    }),
  );
}

/** A failure on one process ends the whole job (the others would wait for it in the next collective forever). */
function abortJob(collectives: { rank: number; abort(code: number): never }, err: unknown): never {
  process.stderr.write(`simclr-compile: process ${collectives.rank}: ${(err as Error).message}\n`);
  return collectives.abort(1);
}
