// `fmt` as a function of text: what the CLI prints and what the language server's formatting
// returns are the same string. `extends`, `use` and comments stay; YAML starts with the modeline.
import { dirname, join, relative } from 'node:path';
import { hasErrors, type Diagnostic } from './diagnostic.js';
import { formatSpec, type Syntax } from './format.js';
import { loadSpecText, specComments, type LoadOptions } from './load.js';
import { packageRoot } from './references.js';

export interface FormatResult {
  /** Undefined when the spec has errors: printing what was understood would drop the rest. */
  text?: string;
  diagnostics: Diagnostic[];
}

/** `target` is where the output will live (the modeline's schema path is relative to it). */
export function formatSource(text: string, fileName: string, to: Syntax, opts: LoadOptions & { target?: string } = {}): FormatResult {
  const loaded = loadSpecText(text, fileName, opts);
  if (loaded.input === undefined || hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics };
  const comments = specComments(text, fileName);
  const body = formatSpec(loaded.input, to, comments);
  return { text: to === 'yaml' ? modeline(text, opts.target ?? fileName) + body : body, diagnostics: loaded.diagnostics };
}

/** The file's own modeline when it has one, else one pointing at grammar/ from the target's folder. */
function modeline(text: string, target: string): string {
  const own = /^#\s*yaml-language-server:.*$/m.exec(text.slice(0, 2000));
  if (own) return `${own[0]}\n`;
  const schema = relative(dirname(target), join(packageRoot, 'grammar', 'simclr.schema.json')).split('\\').join('/');
  return `# yaml-language-server: $schema=${schema}\n`;
}
