// Formatting is `fmt`: the front end prints the spec again in its own syntax. A file with errors is
// left alone (printing what was understood of it would drop what was not), and so is a file whose
// comments the printer would not keep: formatting must never delete what a person wrote.
import type { TextEdit } from 'vscode-languageserver/node';
import type { SpecDocument } from './documents.js';
import { formatText, specComments, type ReadText } from './frontend.js';

export function formatEdits(spec: SpecDocument, readText?: ReadText): TextEdit[] {
  const text = spec.doc.getText();
  const formatted = formatText(text, spec.fileName, spec.syntax, readText);
  if (formatted === undefined || formatted === text) return [];
  const kept = new Set(specComments(formatted, spec.syntax).map((c) => c.trim()));
  if (specComments(text, spec.syntax).some((c) => !kept.has(c.trim()))) return [];
  return [{ range: { start: { line: 0, character: 0 }, end: spec.doc.positionAt(text.length) }, newText: formatted }];
}
