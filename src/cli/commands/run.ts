// `simclr-compile run SPEC`: train, evaluate, write the run folder; `--resume DIR` continues a run.
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { runtime } from '../../gpu/runtime.js';
import { writeReport } from '../../report/report.js';
import { train, type RunSummary } from '../../train/trainer.js';
import { v2Rows } from './v2.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

interface RunFlags {
  set: string[];
  out?: string;
  resume?: string;
  json?: boolean;
  stopAfter?: string;
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
      .option('--json', 'one JSON line per logged step on stdout, and the summary as JSON'),
  ).action(async (file: string | undefined, flags: RunFlags) => {
    if (!file && !flags.resume) throw new Error('run needs a spec file, or --resume DIR');
    const spec = flags.resume ? undefined : loadOrReport(file!, flags.set)?.spec;
    if (!flags.resume && !spec) return;
    const stopAfter = flags.stopAfter === undefined ? undefined : Number(flags.stopAfter);
    if (stopAfter !== undefined && !(Number.isInteger(stopAfter) && stopAfter > 0)) throw new Error(`--stop-after must be a positive step number, got ${flags.stopAfter}`);
    const abort = new AbortController();
    const onInterrupt = () => {
      // A second Ctrl-C leaves at once; the first lets the step finish and the checkpoint be written.
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    process.on('SIGINT', onInterrupt);
    try {
      const result = await train(spec, { out: flags.out, resume: flags.resume, json: flags.json, stopAfter, signal: abort.signal });
      // The report reads the finished run folder: it comes after training, never inside it.
      if (result.status === 'finished') process.stderr.write(`wrote ${await writeReport(await runtime(), result.run_dir)}\n`);
      if (flags.json) console.log(JSON.stringify(result));
      else console.error(report(result));
      if (result.status === 'interrupted') process.exitCode = 130;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  });
}

function report(r: RunSummary): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
  const rows = [
    ['steps', `${r.steps}/${r.total_steps}`],
    ['final loss', r.final_loss.toFixed(4)],
    ['images/s', String(r.images_per_s)],
    ['wall time', `${r.wall_s} s`],
  ];
  if (r.trained) {
    rows.push(['kNN top-1 (trained | random init)', `${pct(r.knn_top1)} | ${pct(r.random_init_knn_top1)}`]);
    rows.push(['linear top-1 (trained | random init)', `${pct(r.linear_top1)} | ${pct(r.random_init_linear_top1)}`]);
  }
  rows.push(...v2Rows(r));
  if (r.held_out) rows.push(['held-out split (train | test images)', `${r.held_out.train} | ${r.held_out.test}`]);
  rows.push(['run folder', r.run_dir]);
  return formatTable(rows);
}
