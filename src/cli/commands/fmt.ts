// `simclr-compile fmt FILE`: the spec in canonical layout, in its own syntax or converted with --to;
// `extends`, `use` and comments stay. YAML output starts with the modeline editors validate by.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { formatSpec, specComments } from '../../spec/index.js';
import { packageRoot } from '../../spec/references.js';
import { addSetOption, loadOrReport } from '../spec-arg.js';

type Syntax = 'simclr' | 'yaml';

export function registerFmt(program: Command): void {
  addSetOption(
    program
      .command('fmt')
      .description('print a spec in canonical layout, or convert it between .simclr and YAML')
      .argument('<file>', '.simclr or .yml spec file')
      .option('--to <syntax>', 'output syntax: simclr or yaml (default: the file’s own)')
      .option('--write', 'write the result to the file (with --to, next to it with the new extension)'),
  ).action((file: string, opts: { set: string[]; to?: string; write?: boolean }) => {
    const own: Syntax = /\.ya?ml$/i.test(file) ? 'yaml' : 'simclr';
    const to = (opts.to ?? own) as Syntax;
    if (to !== 'simclr' && to !== 'yaml') throw new Error(`--to must be simclr or yaml, got '${opts.to}'`);
    const loaded = loadOrReport(file, opts.set);
    if (!loaded?.input) return;
    const target = to === own ? file : file.replace(/\.(simclr|ya?ml)$/i, '') + (to === 'yaml' ? '.yml' : '.simclr');
    const comments = specComments(readFileSync(file, 'utf8'), file);
    const text = to === 'yaml' ? modeline(target) + formatSpec(loaded.input, 'yaml', comments) : formatSpec(loaded.input, 'simclr', comments);
    if (opts.write) writeFileSync(target, text);
    else process.stdout.write(text);
  });
}

function modeline(target: string): string {
  const schema = relative(dirname(target), join(packageRoot, 'grammar', 'simclr.schema.json')).split('\\').join('/');
  return `# yaml-language-server: $schema=${schema}\n`;
}
