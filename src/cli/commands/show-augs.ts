// `simclr-compile show-augs SPEC`: a PNG grid of source images and their two augmented views.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { compileAugment, formatPipelines, renderPreview, type AugmentSpec } from '../../augment/index.js';
import { openDataset, takeFirst, type DataSection } from '../../data/index.js';
import { runtime } from '../../gpu/runtime.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

export interface ShowAugsOptions {
  n: number;
  out: string;
  print: boolean;
  seed: number;
}

/** What show-augs needs of a resolved spec. */
export interface ShowAugsSpec {
  data: DataSection;
  augment: AugmentSpec;
}

/** Writes the grid; returns the lines to print. */
export async function showAugs(spec: ShowAugsSpec, opts: ShowAugsOptions): Promise<string[]> {
  const rt = await runtime();
  const data = takeFirst(openDataset(spec.data), opts.n);
  const lines: string[] = [];
  if (opts.print) {
    const source = { channels: data.channels as 1 | 3, height: data.height, width: data.width, dtype: 'uint8' as const };
    lines.push(formatPipelines(compileAugment(spec.augment, source, rt.target)));
  }
  const preview = await renderPreview(rt, spec.augment, data, opts.n, opts.seed);
  writeFileSync(opts.out, preview.png);
  lines.push(`wrote ${opts.out} (${preview.width}×${preview.height}): ${Math.min(opts.n, data.count)} images of ${data.name}, columns source | view 1 | view 2 (seed ${opts.seed}, before normalize)`);
  return lines;
}

interface ShowAugsFlags {
  n: string;
  out: string;
  print?: boolean;
  seed?: string;
  set: string[];
}

function count(flag: string, value: string, min: number): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < min) throw new Error(`${flag} must be an integer ≥ ${min}, got ${value}`);
  return x;
}

export function registerShowAugs(program: Command): void {
  addSetOption(program
    .command('show-augs')
    .description("draw a PNG grid of source images and their two augmented views (the spec's augment section)")
    .argument('<spec>', '.simclr or .yml spec file')
    .option('--n <n>', 'source images (rows)', '8')
    .option('--out <file>', 'PNG to write', 'augs.png')
    .option('--print', 'print the resolved pipelines and the passes they compile to')
    .option('--seed <s>', "augmentation seed (default: the spec's train.seed)")
  ).action(async (file: string, flags: ShowAugsFlags) => {
      const loaded = loadOrReport(file, flags.set);
      if (!loaded) return;
      const seed = flags.seed === undefined ? loaded.spec.train.seed : count('--seed', flags.seed, 0);
      const lines = await showAugs(loaded.spec, { n: count('--n', flags.n, 1), out: flags.out, print: !!flags.print, seed });
      for (const line of lines) console.log(line);
    });
}
