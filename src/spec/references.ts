// Where `extends` / `use` references point. A bare name (no '/', no leading '.') is a stdlib preset;
// `stdlib/...` is inside the stdlib folder; anything else is relative to the file that says it.
// The extension may be left out: .simclr, .yml, .yaml are tried in that order.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const stdlibRoot = join(packageRoot, 'stdlib');
const EXTENSIONS = ['', '.simclr', '.yml', '.yaml'];
const SPEC_FILE = /\.(simclr|ya?ml)$/;

let presets: Map<string, string> | undefined;
/** Stdlib preset name → file. */
export function stdlibPresets(): Map<string, string> {
  presets ??= new Map(
    readdirSync(stdlibRoot, { recursive: true })
      .map(String)
      .filter((f) => SPEC_FILE.test(f))
      .sort()
      .map((f) => [basename(f).replace(SPEC_FILE, ''), join(stdlibRoot, f)]),
  );
  return presets;
}

export const isPresetName = (reference: string) => !reference.includes('/') && !reference.includes('\\') && !reference.startsWith('.');

/** The absolute path `reference` names, seen from `fromFile`, or undefined when there is none. */
export function resolvePresetPath(reference: string, fromFile: string): string | undefined {
  if (isPresetName(reference)) return stdlibPresets().get(reference.replace(SPEC_FILE, ''));
  const base = reference.startsWith('stdlib/') ? join(packageRoot, reference) : isAbsolute(reference) ? reference : resolve(dirname(fromFile), reference);
  return EXTENSIONS.map((ext) => base + ext).find((p) => existsSync(p) && statSync(p).isFile());
}
