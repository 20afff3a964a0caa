import type { Command } from 'commander';
import { suites } from '../../bench/index.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure speed and memory; one JSON object per line with --json')
    .argument('<suite>', 'kernels, infonce, augment, train, lsp or collective')
    .option('--json', 'JSON lines only (otherwise a table follows them)')
    .option('--repeats <n>', 'timed runs per measurement (the median is reported)', '5')
    .option('--quick', 'small shapes only, for a fast look')
    .option('--precision <p>', 'train: f16 times the f16 step too, against f32 in the same run', 'f32')
    .action(async (name: string, opts: { json?: boolean; repeats: string; quick?: boolean; precision: string }) => {
      if (opts.precision !== 'f32' && opts.precision !== 'f16') throw new Error(`--precision is f32 or f16, got ${opts.precision}`);
      const suite = suites.find((s) => s.name === name);
      if (!suite) throw new Error(`unknown bench suite ${name}; known: ${suites.map((s) => s.name).join(', ')}`);
      const rows: Record<string, unknown>[] = [];
      await suite.run({ repeats: Math.max(1, Number(opts.repeats) || 5), quick: !!opts.quick, precision: opts.precision }, (row) => {
        rows.push(row);
        console.log(JSON.stringify(row));
      });
      if (!opts.json && rows.length) console.table(rows);
    });
}
