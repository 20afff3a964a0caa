// Lexer and parser errors → diagnostics, thinned so one typo gives one message: at most one syntax
// error per line, and a missing '}' or ']' at the end of the file is reported once, at the bracket
// that was never closed.
import { EOF, type ILexingResult, type IRecognitionException, type IToken } from 'chevrotain';
import { diagnostic, pointRange, type Diagnostic, type Loc } from './diagnostic.js';
import * as t from './tokens.js';

export function syntaxDiagnostics(text: string, file: string, lexed: ILexingResult): Diagnostic[] {
  const out: Diagnostic[] = [];
  let lastEnd = -1;
  for (const err of lexed.errors) {
    // The lexer reports a run of bad characters as consecutive errors: keep the first of each run.
    if (err.offset === lastEnd) {
      lastEnd = err.offset + err.length;
      continue;
    }
    lastEnd = err.offset + err.length;
    const ch = text[err.offset];
    out.push(diagnostic('E0001', { file, range: pointRange(err.line ?? 1, err.column ?? 1, err.length) }, `unexpected character '${ch}'`));
  }
  for (const tok of lexed.tokens) {
    if (tok.tokenType !== t.UnterminatedString) continue;
    out.push(diagnostic('E0002', locOf(file, tok), 'unterminated string: add the closing \'"\''));
  }
  return out;
}

syntaxDiagnostics.fromParser = function fromParser(text: string, file: string, toks: IToken[], errors: IRecognitionException[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const linesWithErrors = new Set<number>();
  // An unterminated string swallows the rest of its line, brackets included: that is one typo.
  const unclosed = toks.some((tok) => tok.tokenType === t.UnterminatedString) ? undefined : unclosedBracket(toks);
  let reportedUnclosed = false;
  for (const err of errors) {
    const atEnd = err.token.tokenType === EOF || !Number.isFinite(err.token.startLine);
    if (atEnd && toks.some((tok) => tok.tokenType === t.UnterminatedString)) continue;
    if (atEnd && unclosed) {
      if (!reportedUnclosed) out.push(diagnostic('E0004', locOf(file, unclosed), `'${unclosed.image}' is never closed: add '${unclosed.image === '{' ? '}' : ']'}'`));
      reportedUnclosed = true;
      continue;
    }
    const loc = atEnd ? endOfText(text, file) : locOf(file, err.token);
    if (linesWithErrors.has(loc.range.start.line)) continue;
    linesWithErrors.add(loc.range.start.line);
    out.push(diagnostic('E0003', loc, err.message));
  }
  return out;
};

/** The innermost bracket still open at the end of the token stream. */
function unclosedBracket(toks: IToken[]): IToken | undefined {
  const stack: IToken[] = [];
  for (const tok of toks) {
    if (tok.tokenType === t.LCurly || tok.tokenType === t.LBracket) stack.push(tok);
    else if (tok.tokenType === t.RCurly || tok.tokenType === t.RBracket) {
      const want = tok.tokenType === t.RCurly ? t.LCurly : t.LBracket;
      const i = stack.map((s) => s.tokenType).lastIndexOf(want);
      if (i >= 0) stack.splice(i);
    }
  }
  return stack[stack.length - 1];
}

function locOf(file: string, tok: IToken): Loc {
  const line = tok.startLine ?? 1;
  const column = tok.startColumn ?? 1;
  return { file, range: { start: { line, column }, end: { line: tok.endLine ?? line, column: (tok.endColumn ?? column) + 1 } } };
}

function endOfText(text: string, file: string): Loc {
  const lines = text.split('\n');
  return { file, range: pointRange(lines.length, lines[lines.length - 1].length + 1, 0) };
}
