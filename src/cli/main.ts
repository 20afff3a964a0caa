// `simclr-compile`: one commander program; each command lives in its own module under commands/.
import { Command, CommanderError } from 'commander';
import { isSpecError } from '../spec/index.js';
import { registerBench } from './commands/bench.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLsp } from './commands/lsp.js';
import { registerCheck } from './commands/check.js';
import { registerPrint } from './commands/print.js';
import { registerFmt } from './commands/fmt.js';
import { registerCompile } from './commands/compile.js';
import { registerShowAugs } from './commands/show-augs.js';
import { registerRun } from './commands/run.js';
import { registerEval } from './commands/eval.js';
import { registerProfile } from './commands/profile.js';
import { registerExport } from './commands/export.js';
import { registerReport } from './commands/report.js';
import { registerV2 } from './commands/v2.js';
import { GpuError } from '../gpu/runtime.js';
import { CODES } from '../spec/index.js';

/**
 * Dawn's reports are pages of validation text about objects the user never named: the first line
 * says what failed, and the whole report is kept behind SIMCLR_DEBUG for a bug report.
 */
export function gpuDiagnostic(err: GpuError): string {
  const [first] = err.message.split('\n');
  const short = first.length > 240 ? `${first.slice(0, 240)}…` : first;
  const full = process.env.SIMCLR_DEBUG ? `\n${err.message}` : ' (set SIMCLR_DEBUG=1 for the device\'s full report)';
  return `error E0405: ${CODES.E0405.title}: ${short}${full}`;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('simclr-compile')
    .description('Compile SimCLR specs into WebGPU kernel graphs and train them')
    .exitOverride()
    .showHelpAfterError();
  registerDoctor(program);
  registerBench(program);
  registerLsp(program);
  registerCheck(program);
  registerPrint(program);
  registerFmt(program);
  registerCompile(program);
  registerShowAugs(program);
  registerRun(program);
  registerEval(program);
  registerProfile(program);
  registerExport(program);
  registerReport(program);
  registerV2(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof GpuError) {
      process.stderr.write(`simclr-compile: ${gpuDiagnostic(err)}\n`);
      return 1;
    }
    // The message alone, never a stack: a coded error (bad data, an augmentation that cannot run) is the user's to fix.
    const code = isSpecError(err) ? `error ${err.code}: ` : '';
    process.stderr.write(`simclr-compile: ${code}${(err as Error).message}\n`);
    return 1;
  }
}
