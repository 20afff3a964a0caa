// `simclr-compile eval RUN_DIR`: evaluates a run's last checkpoint (and its initial weights as the
// random-init baseline) with the run's own spec; `--set` changes the evaluation (e.g. eval.knn.k).
import { join } from 'node:path';
import type { Command } from 'commander';
import { runtime } from '../../gpu/runtime.js';
import { buildPhase } from '../../ir/phase.js';
import { featuresPhase } from '../../ir/phases.js';
import { checkTensors, readCheckpoint } from '../../train/checkpoint.js';
import { FILES, readRunSpec, writeJson } from '../../train/run-folder.js';
import { evaluateRun, tensorsOf } from '../../train/trainer.js';
import { formatSpec, hasErrors, loadSpecText, formatDiagnostic } from '../../spec/index.js';
import { addSetOption } from '../spec-arg.js';

export function registerEval(program: Command): void {
  addSetOption(
    program
      .command('eval')
      .description("evaluate a run's checkpoint: kNN and linear probe top-1, beside the same architecture at random init")
      .argument('<run_dir>', 'a run folder written by `simclr-compile run`')
      .option('--json', 'print the results as one JSON object'),
  ).action(async (dir: string, flags: { set: string[]; json?: boolean }) => {
    let spec = readRunSpec(dir);
    if (flags.set.length) {
      // Overrides go through the front end so they are validated like any spec edit.
      const loaded = loadSpecText(formatSpec(spec, 'simclr'), join(dir, FILES.spec), { set: flags.set });
      for (const d of loaded.diagnostics) console.error(formatDiagnostic(d));
      if (!loaded.spec || hasErrors(loaded.diagnostics)) {
        process.exitCode = 1;
        return;
      }
      spec = loaded.spec;
    }
    const rt = await runtime();
    // The encoder's inference network names what each checkpoint must hold.
    const { graph } = buildPhase(featuresPhase(spec, 1));
    const [weights, initial] = [FILES.checkpoint, FILES.init].map((file) => {
      const path = join(dir, file);
      const checkpoint = readCheckpoint(path);
      checkTensors(path, checkpoint, graph);
      return tensorsOf(checkpoint.tensors);
    });
    const { trained, baseline } = await evaluateRun(rt, spec, weights, initial, (t) => console.error(t));
    const result = { run_dir: dir, trained, random_init: baseline };
    writeJson(join(dir, 'eval.json'), result);
    if (flags.json) console.log(JSON.stringify(result));
  });
}
