// `simclr-compile export RUN_DIR --onnx FILE.onnx` and `simclr-compile embed RUN_DIR --out FILE`:
// the trained encoder, or its features, in files other tools read.
import type { Command } from 'commander';
import { RunFolderError } from '../../export/errors.js';
import { embed, exportOnnx } from '../../export/export.js';
import { runtime } from '../../gpu/runtime.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a run's encoder (eval mode) as an ONNX model, and FILE.example.safetensors with an input batch and our features for it")
    .argument('<run_dir>', 'a run folder written by `simclr-compile run`')
    .requiredOption('--onnx <file>', 'the .onnx file to write')
    .action(async (dir: string, flags: { onnx: string }) => {
      const rt = await runtime();
      const r = await exportOnnx(rt, dir, flags.onnx);
      console.log(`wrote ${r.onnx}: input (batch, ${r.inputShape.slice(1).join(', ')}) normalised views, output features (batch, ${r.featureDim}); example batch in ${r.example}`);
    });
  program
    .command('embed')
    .description("write the encoder's features and labels of a data split as .npy or .safetensors")
    .argument('<run_dir>', 'a run folder written by `simclr-compile run`')
    .option('--split <split>', "train or test (default: the spec's data.eval_split)")
    .option('--limit <n>', 'only the first N images')
    .requiredOption('--out <file>', '.npy (features; labels beside as FILE.labels.npy) or .safetensors (both)')
    .action(async (dir: string, flags: { split?: string; limit?: string; out: string }) => {
      if (flags.split !== undefined && flags.split !== 'train' && flags.split !== 'test') throw new RunFolderError('E0504', `--split must be train or test, got ${flags.split}`);
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new RunFolderError('E0504', `--limit must be a positive integer, got ${flags.limit}`);
      const rt = await runtime();
      const r = await embed(rt, dir, { split: flags.split as 'train' | 'test' | undefined, limit, out: flags.out });
      console.log(`wrote ${r.files.join(' and ')}: ${r.count} images × ${r.dim} features`);
    });
}
