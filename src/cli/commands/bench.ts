import type { Command } from 'commander';
import { suites } from '../../bench/index.js';
import { IMPLS } from '../../bench/train.js';

const positive = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure speed and memory; one JSON object per line with --json')
    .argument('<suite>', 'kernels, infonce, augment, train, lsp or collective')
    .option('--json', 'JSON lines only (otherwise a table follows them)')
    .option('--repeats <n>', 'timed runs per measurement (the median is reported)', '5')
    .option('--quick', 'small shapes only, for a fast look')
    .option('--precision <p>', 'train: f16 times the f16 step too, against f32 in the same run', 'f32')
    .option('--batch <n>', 'train: images per view (default 256)')
    .option('--chunk <n>', 'train: images per chunk of the compiled step (default: chunked only when it does not fit)')
    .option('--impl <list>', `train: the implementations to time, comma-separated (default ${IMPLS.join(',')})`)
    .action(async (name: string, opts: { json?: boolean; repeats: string; quick?: boolean; precision: string; batch?: string; chunk?: string; impl?: string }) => {
      if (opts.precision !== 'f32' && opts.precision !== 'f16') throw new Error(`--precision is f32 or f16, got ${opts.precision}`);
      const impls = opts.impl?.split(',').map((s) => s.trim());
      const unknown = impls?.find((i) => !(IMPLS as readonly string[]).includes(i));
      if (unknown !== undefined) throw new Error(`--impl takes ${IMPLS.join(', ')}; got ${unknown}`);
      const suite = suites.find((s) => s.name === name);
      if (!suite) throw new Error(`unknown bench suite ${name}; known: ${suites.map((s) => s.name).join(', ')}`);
      const rows: Record<string, unknown>[] = [];
      await suite.run({ repeats: Math.max(1, Number(opts.repeats) || 5), quick: !!opts.quick, precision: opts.precision, batch: positive('--batch', opts.batch), chunk: positive('--chunk', opts.chunk), impls }, (row) => {
        rows.push(row);
        console.log(JSON.stringify(row));
      });
      if (!opts.json && rows.length) console.table(rows);
    });
}
