// `simclr-compile report RUN_DIR`: RUN_DIR/report.html, the page `run` also writes at its end.
import type { Command } from 'commander';
import { runtime } from '../../gpu/runtime.js';
import { writeReport } from '../../report/report.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write RUN_DIR/report.html: curves, augmentations, nearest neighbours, embedding map, per-class accuracy, spec and summary in one self-contained page")
    .argument('<run_dir>', 'a run folder written by `simclr-compile run`')
    .action(async (dir: string) => {
      const rt = await runtime();
      console.log(`wrote ${await writeReport(rt, dir, (t) => console.error(t))}`);
    });
}
