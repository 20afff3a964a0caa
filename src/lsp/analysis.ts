// Diagnostics: the front end's, exactly as `check` reports them, moved to LSP's 0-based positions.
// A problem inside a preset this file pulls in is shown on the `extends` / `use` that brings it,
// with the preset's own position attached, since an editor shows a file's problems in that file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Range } from 'vscode-languageserver/node';
import type { SpecDocument } from './documents.js';
import { checkText, resolveReference, specTokens, type Diagnostic, type ReadText } from './frontend.js';
import { yamlReferenceAt } from './definition.js';

export function diagnose(spec: SpecDocument, readText?: ReadText): LspDiagnostic[] {
  return toLspDiagnostics(spec, checkText(spec.doc.getText(), spec.fileName, readText));
}

/** Front-end diagnostics of this document (its own, and its presets' at their `extends` / `use`) in LSP form. */
export function toLspDiagnostics(spec: SpecDocument, all: Diagnostic[]): LspDiagnostic[] {
  const own = all.filter((d) => d.file === spec.fileName);
  const foreign = all.filter((d) => d.file !== spec.fileName);
  const out = own.map((d) => toLsp(d, toRange(d)));
  if (foreign.length) {
    const references = referencesIn(spec);
    for (const d of foreign) {
      const target = resolve(d.file);
      const anchor = references.find((r) => r.file === target) ?? references[0];
      const lsp = toLsp(d, anchor?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
      lsp.message = `${d.file}:${d.range.start.line}:${d.range.start.column}: ${d.message}`;
      lsp.relatedInformation = [{ location: { uri: pathToFileURL(target).href, range: toRange(d) }, message: d.message }];
      out.push(lsp);
    }
  }
  return out;
}

function toRange(d: Diagnostic): Range {
  return {
    start: { line: Math.max(0, d.range.start.line - 1), character: Math.max(0, d.range.start.column - 1) },
    end: { line: Math.max(0, d.range.end.line - 1), character: Math.max(0, d.range.end.column - 1) },
  };
}

function toLsp(d: Diagnostic, range: Range): LspDiagnostic {
  return {
    range,
    severity: d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    code: d.code,
    source: 'simclr',
    message: d.message,
  };
}

/** The `extends` / `use` targets written in this file, with the files they resolve to. */
function referencesIn(spec: SpecDocument): { file?: string; range: Range }[] {
  const doc = spec.doc;
  if (spec.syntax === 'simclr') {
    const tokens = specTokens(doc.getText());
    return tokens
      .filter((t, i) => i > 0 && (tokens[i - 1].kind === 'extends' || tokens[i - 1].kind === 'use') && (t.kind === 'ident' || t.kind === 'string'))
      .map((t) => ({ file: resolveReference(t.image, spec.fileName), range: { start: doc.positionAt(t.start), end: doc.positionAt(t.end) } }));
  }
  const found: { file?: string; range: Range }[] = [];
  doc.getText().split(/\r?\n/).forEach((line, i) => {
    for (const m of line.matchAll(/\b(?:use|extends)\s*:/g)) {
      const reference = yamlReferenceAt(line, m.index!);
      if (reference) {
        const at = line.indexOf(reference, m.index!);
        found.push({ file: resolveReference(reference, spec.fileName), range: { start: { line: i, character: at }, end: { line: i, character: at + reference.length } } });
      }
    }
  });
  return found;
}
