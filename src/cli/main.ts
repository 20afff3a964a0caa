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
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // The message alone, never a stack: a coded error (bad data, an augmentation that cannot run) is the user's to fix.
    const code = isSpecError(err) ? `error ${err.code}: ` : '';
    process.stderr.write(`simclr-compile: ${code}${(err as Error).message}\n`);
    return 1;
  }
}
