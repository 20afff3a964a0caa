// What every command that reads a spec shares: the --set option, and loading with diagnostics printed.
import type { Command } from 'commander';
import { formatDiagnostic, hasErrors, loadSpecFile, type LoadResult, type ResolvedSpec } from '../spec/index.js';

/** `--set key.path=value`, repeatable. */
export const addSetOption = (command: Command): Command =>
  command.option('--set <key.path=value>', 'override a spec field, e.g. --set train.batch_size=128 (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[]);

/**
 * Loads a spec and prints its diagnostics on stderr; on errors sets exit code 1 and returns
 * undefined, so the command just returns.
 */
export function loadOrReport(file: string, set: string[]): (LoadResult & { spec: ResolvedSpec }) | undefined {
  const loaded = loadSpecFile(file, { set });
  for (const d of loaded.diagnostics) console.error(formatDiagnostic(d));
  if (!loaded.spec || hasErrors(loaded.diagnostics)) {
    process.exitCode = 1;
    return undefined;
  }
  return loaded as LoadResult & { spec: ResolvedSpec };
}
