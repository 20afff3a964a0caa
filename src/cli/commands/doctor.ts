import type { Command } from 'commander';
import { acquireGpu, NoAdapterError, useShaderCache, vulkanReport } from '../../gpu/device.js';
import { mpiStatus, type MpiStatus } from '../../dist/status.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show the WebGPU adapter Dawn finds, its limits and features, whether MPI is usable, or what is missing and how to fix it')
    .option('--json', 'print one JSON object')
    .option('--quiet', 'print nothing; exit 0 when an adapter is found, 1 when not')
    .action(async (opts: { json?: boolean; quiet?: boolean }) => {
      try {
        const { adapter, hasF16 } = await acquireGpu();
        if (opts.quiet) return;
        const mpi = mpiStatus();
        const report = { ok: true, ...adapter, shaderF16: hasF16, shaderCache: useShaderCache(), mpi };
        if (opts.json) {
          console.log(JSON.stringify(report));
          return;
        }
        console.log(`adapter      ${adapter.description || adapter.device} (${adapter.vendor}, ${adapter.architecture})`);
        console.log(`kind         ${adapter.isSoftware ? 'software (CPU) — kernels use CPU-friendly variants' : 'hardware GPU'}`);
        console.log(`shader-f16   ${hasF16 ? 'yes: train.precision f16 is available' : 'no: train.precision f16 is not available here (use precision: f32)'}`);
        console.log(`shader cache ${report.shaderCache}`);
        console.log(`features     ${adapter.features.join(', ')}`);
        printMpi(mpi);
        console.log('limits');
        for (const [key, value] of Object.entries(adapter.limits)) console.log(`  ${key.padEnd(44)} ${value}`);
      } catch (err) {
        if (!(err instanceof NoAdapterError)) throw err;
        process.exitCode = 1;
        if (opts.quiet) return;
        const mpi = mpiStatus();
        if (opts.json) console.log(JSON.stringify({ ok: false, error: err.message, vulkan: vulkanReport(), mpi }));
        else {
          console.error(`no WebGPU adapter\n${err.message}`);
          printMpi(mpi);
        }
      }
    });
}

/** MPI is optional (a single process needs none): its absence is reported, not an error of doctor. */
function printMpi(mpi: MpiStatus): void {
  console.log(`mpi          ${mpi.usable ? `usable — ${mpi.mpirunVersion ?? 'mpirun'}; ${mpi.library}` : `not usable (runs on one process only): ${mpi.problem}`}`);
  console.log(`  mpirun     ${mpi.mpirun ?? 'not found'}`);
  console.log(`  addon      ${mpi.addon}`);
}
