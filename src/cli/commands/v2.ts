// `simclr-compile finetune RUN_DIR` and `simclr-compile distill RUN_DIR`: one SimCLR v2 phase on an
// existing run, with --set overrides of its spec (label fractions, students) and no pre-training.
// A phase already done in the run folder is reported again; one killed part-way resumes.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtime } from '../../gpu/runtime.js';
import { formatDiagnostic, formatSpec, hasErrors, loadSpecText, type ResolvedSpec } from '../../spec/index.js';
import { FILES, readRunSpec, writeJson } from '../../train/run-folder.js';
import { distillRun, finetuneRun, type V2Summary } from '../../train/v2.js';
import { addSetOption } from '../spec-arg.js';
import { formatTable } from '../table.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The summary's v2 rows of the table `run` and these commands print. */
export function v2Rows(r: V2Summary): string[][] {
  const rows: string[][] = [];
  if (r.finetune) {
    const f = r.finetune;
    rows.push([`labels (fraction | images)`, `${f.label_fraction} | ${f.labelled_images}`]);
    rows.push(['fine-tuned top-1 (test | validation)', `${pct(f.top1)} | ${pct(f.val_top1)}`]);
    rows.push(['same labels: from scratch | linear probe', `${pct(f.scratch_top1)} | ${pct(f.linear_top1)}`]);
  }
  if (r.distill) {
    const d = r.distill;
    rows.push(['distilled student | teacher top-1', `${pct(d.top1)} | ${pct(d.teacher_top1)}`]);
    rows.push(['student–teacher agreement', pct(d.agreement)]);
    rows.push(['params (student | teacher)', `${d.student_params} | ${d.teacher_params}`]);
  }
  return rows;
}

/** The run's spec with the overrides, through the spec front end (diagnostics printed; undefined on errors). */
function runSpec(dir: string, set: string[]): ResolvedSpec | undefined {
  const path = join(dir, FILES.spec);
  const loaded = loadSpecText(formatSpec(readRunSpec(dir), 'simclr'), path, { set });
  for (const d of loaded.diagnostics) console.error(formatDiagnostic(d));
  if (!loaded.spec || hasErrors(loaded.diagnostics)) {
    process.exitCode = 1;
    return undefined;
  }
  return loaded.spec;
}

/** summary.json gains the phase's figures, the rest of it kept. */
function record(dir: string, part: V2Summary): void {
  const path = join(dir, FILES.summary);
  const before = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  writeJson(path, { ...before, ...part });
}

export function registerV2(program: Command): void {
  for (const phase of ['finetune', 'distill'] as const) {
    addSetOption(
      program
        .command(phase)
        .description(phase === 'finetune' ? 'fine-tune a run’s pre-trained network on a fraction of the labels (with the from-scratch and linear-probe baselines)' : 'distil a run’s fine-tuned network (or distill.teacher) into a student')
        .argument('<run_dir>', 'a run folder of `simclr-compile run`')
        .option('--json', 'the phase summary as JSON on stdout'),
    ).action(async (dir: string, flags: { set: string[]; json?: boolean }) => {
      const spec = runSpec(dir, flags.set);
      if (!spec) return;
      const rt = await runtime();
      const say = (t: string) => process.stderr.write(`${t}\n`);
      const part: V2Summary = phase === 'finetune' ? { finetune: await finetuneRun(rt, spec, dir, say) } : { distill: await distillRun(rt, spec, dir, say) };
      record(dir, part);
      if (flags.json) console.log(JSON.stringify(part));
      else console.error(formatTable(v2Rows(part)));
    });
  }
}
