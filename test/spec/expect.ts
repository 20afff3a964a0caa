// One-line spec tests: `expectError(text, 'E0102', line, col, 'message part')` loads the text as a
// spec (`.simclr`, or YAML when the file name says so) and asserts a diagnostic with that code at
// that position; `expectClean(text)` asserts there is none and returns the resolved spec.
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { formatDiagnostic, loadSpecText, type Diagnostic, type LoadOptions, type ResolvedSpec } from '../../src/spec/index.js';

/** The repository root (the tests run from build/test/spec/). */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function expectError(text: string, code: string, line: number, column: number, message?: string, file = 'spec.simclr', opts: LoadOptions = {}): Diagnostic {
  const { diagnostics, spec } = loadSpecText(text, file, opts);
  const shown = diagnostics.map(formatDiagnostic).join('\n') || '(none)';
  const found = diagnostics.find((d) => d.code === code && d.range.start.line === line && d.range.start.column === column);
  assert.ok(found, `expected ${code} at ${line}:${column}, got:\n${shown}`);
  if (message) assert.ok(found.message.includes(message), `message '${found.message}' lacks '${message}'`);
  assert.is(spec, undefined, 'a spec with errors has no resolved spec');
  return found;
}

/** Exactly these diagnostics (code@line:col), no others. */
export function expectOnly(text: string, expected: string[], file = 'spec.simclr', opts: LoadOptions = {}): Diagnostic[] {
  const { diagnostics } = loadSpecText(text, file, opts);
  assert.equal(
    diagnostics.map((d) => `${d.code}@${d.range.start.line}:${d.range.start.column}`),
    expected,
    diagnostics.map(formatDiagnostic).join('\n'),
  );
  return diagnostics;
}

export function expectClean(text: string, file = 'spec.simclr', opts: LoadOptions = {}): ResolvedSpec {
  const { diagnostics, spec } = loadSpecText(text, file, opts);
  assert.equal(diagnostics.map(formatDiagnostic), [], 'no diagnostics');
  assert.ok(spec, 'a resolved spec');
  return spec;
}
