// The one shape every problem a user can cause takes — lexer, parser, YAML, schema, resolution and
// semantic checks alike — so the CLI prints it and the language server publishes it unchanged.
import { CODES, type Code } from './codes.js';

/** 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** `end` is exclusive: the position just after the last character. */
export interface Range {
  start: Position;
  end: Position;
}

export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file: string;
  range: Range;
  /** A suggested replacement ("did you mean"), when there is one. */
  hint?: string;
}

/** Where a piece of a spec came from. */
export interface Loc {
  file: string;
  range: Range;
}

export function diagnostic(code: Code, loc: Loc, message: string, hint?: string): Diagnostic {
  return { code, severity: CODES[code].severity, message, file: loc.file, range: loc.range, ...(hint !== undefined ? { hint } : {}) };
}

/**
 * A problem found outside a spec's text (a run folder's file, the device), thrown rather than
 * collected: `file: error E0501: message`, with the file or spec field it concerns.
 */
export class CodedError extends Error {
  constructor(
    readonly code: Code,
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${CODES[code].severity} ${code}: ${detail}`);
    this.name = 'CodedError';
  }
}

/** `file:line:col: error E0102: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.range.start.line}:${d.range.start.column}: ${d.severity} ${d.code}: ${d.message}`;
}

export const hasErrors = (ds: Diagnostic[]) => ds.some((d) => d.severity === 'error');

/** Orders by file, then position, and drops exact repeats (a preset used twice reports once). */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds
    .filter((d) => {
      const key = `${formatDiagnostic(d)}|${d.range.end.line}:${d.range.end.column}`;
      return seen.has(key) ? false : (seen.add(key), true);
    })
    .sort((a, b) => (a.file === b.file ? a.range.start.line - b.range.start.line || a.range.start.column - b.range.start.column : a.file < b.file ? -1 : 1));
}

export function pointRange(line: number, column: number, length = 1): Range {
  return { start: { line, column }, end: { line, column: column + length } };
}
