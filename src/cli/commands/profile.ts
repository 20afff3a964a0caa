// `simclr-compile profile SPEC [--batch N] [--json]`: where the training step's time goes, kernel by
// kernel, against the whole step and the adapter's measured roofs.
import type { Command } from 'commander';
import { profileStep, type KernelRow } from '../../bench/profile.js';
import { runtime } from '../../gpu/runtime.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

export function registerProfile(program: Command): void {
  addSetOption(
    program
      .command('profile')
      .description("time every kernel of a spec's compiled training step (timestamp queries where the adapter has them) beside the whole step")
      .argument('<spec>', '.simclr or .yml spec file')
      .option('--batch <n>', 'images per view (default: the spec’s train.batch_size)')
      .option('--repeats <n>', 'timed runs; medians are reported', '5')
      .option('--json', 'one JSON object per kernel, then the step and the roofs'),
  ).action(async (file: string, flags: { batch?: string; repeats: string; json?: boolean; set: string[] }) => {
    const loaded = loadOrReport(file, flags.set);
    if (!loaded) return;
    const batch = flags.batch ? Number(flags.batch) : loaded.spec.train.batch_size;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${flags.batch}`);
    const p = await profileStep(await runtime(), loaded.spec, batch, Math.max(1, Number(flags.repeats) || 5));
    if (flags.json) {
      for (const row of p.kernels) console.log(JSON.stringify(row));
      console.log(JSON.stringify({ step_ms: p.step_ms, kernel_sum_ms: p.kernel_sum_ms, method: p.method, roof: p.roof, adapter: p.adapter, batch, precision: p.precision, planned_bytes: p.planned_bytes, measured_peak_bytes: p.measured_peak_bytes }));
      return;
    }
    console.log(`${loaded.spec.name}: batch ${batch} on ${p.adapter}; kernels timed by ${p.method}`);
    console.log(`roof: ${p.roof.gflops} GFLOP/s (FMA probe), ${p.roof.gbps} GB/s (copy probe)`);
    console.log(table([...p.kernels].sort((a, b) => b.ms - a.ms), p.step_ms));
    console.log(`step ${p.step_ms} ms measured as one submission; kernels sum to ${p.kernel_sum_ms} ms (${((100 * p.kernel_sum_ms) / p.step_ms).toFixed(0)}%)`);
    console.log(`memory (${p.precision}): planned ${mib(p.planned_bytes)} MiB, measured peak ${mib(p.measured_peak_bytes)} MiB (uniforms and read-back buffers included)`);
  });
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

function table(rows: KernelRow[], stepMs: number): string {
  const head = ['ms', 'share', 'GFLOP/s', 'GB/s', 'roof', 'stage', 'kernel'];
  const body = rows.map((r) => [r.ms.toFixed(3), `${((100 * r.ms) / stepMs).toFixed(1)}%`, r.gflops.toFixed(2), r.gbps.toFixed(2), `${r.roof_pct.toFixed(0)}%`, r.stage, r.kernel]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padStart(widths[i]) : c)).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
