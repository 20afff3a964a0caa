// `.simclr` text → located tree. Lexes, parses (with recovery), then visits the CST. A tagged
// block `conv { out: 32 }` becomes an object whose discriminator is `op` inside `augment` and `type`
// elsewhere; a bare name in a layer or op list is a tagged block without fields.
import type { CstNode, IToken } from 'chevrotain';
import { diagnostic, type Diagnostic, type Loc } from './diagnostic.js';
import { parser, parseTokens } from './parser.js';
import { syntaxDiagnostics } from './syntax-errors.js';
import * as t from './tokens.js';
import { MAX_NESTING, type Entry, type Node, type SpecPath } from './tree.js';

const TAGGED_LISTS = new Set(['layers', 'body', 'shortcut', 'ops', 'views']);

export interface ParsedText {
  tree: Node;
  diagnostics: Diagnostic[];
  comments: IToken[];
}

export function parseSimclr(text: string, file: string): ParsedText {
  const lexed = t.lexer.tokenize(text);
  const diagnostics = syntaxDiagnostics(text, file, lexed);
  const cst = parseTokens(withinNesting(lexed.tokens, file, diagnostics).map((tok) => (tok.tokenType === t.UnterminatedString ? { ...tok, tokenType: t.StringLiteral, tokenTypeIdx: t.StringLiteral.tokenTypeIdx! } : tok)));
  diagnostics.push(...syntaxDiagnostics.fromParser(text, file, lexed.tokens, parser.errors));
  const tree = builder.build(cst, text, file, diagnostics);
  return { tree, diagnostics, comments: lexed.groups.comments ?? [] };
}

/**
 * The parser and the tree builder recurse once per bracket, so a block or list past MAX_NESTING is
 * reported and its contents left out before parsing; its own brackets stay, so the rest parses.
 */
function withinNesting(tokens: IToken[], file: string, diagnostics: Diagnostic[]): IToken[] {
  const kept: IToken[] = [];
  let depth = 0;
  let skipping = 0;
  for (const tok of tokens) {
    const step = tok.tokenType === t.LCurly || tok.tokenType === t.LBracket ? 1 : tok.tokenType === t.RCurly || tok.tokenType === t.RBracket ? -1 : 0;
    if (skipping > 0 && (skipping += step) > 0) continue;
    depth = Math.max(0, depth + step);
    if (step === 1 && depth > MAX_NESTING) {
      const at = tokenLoc(file, tok);
      if (at) diagnostics.push(diagnostic('E0008', at, `blocks and lists nest at most ${MAX_NESTING} deep: this one's contents are left out`));
      skipping = 1;
    }
    kept.push(tok);
  }
  return kept;
}

type Ctx = Record<string, (CstNode | IToken)[] | undefined>;
const nodes = (ctx: Ctx, name: string) => (ctx[name] ?? []) as CstNode[];
const tokens = (ctx: Ctx, name: string) => (ctx[name] ?? []) as IToken[];

export function tokenLoc(file: string, tok: IToken): Loc | undefined {
  if (!Number.isFinite(tok.startLine) || !Number.isFinite(tok.startColumn)) return undefined;
  return {
    file,
    range: {
      start: { line: tok.startLine!, column: tok.startColumn! },
      end: { line: tok.endLine ?? tok.startLine!, column: (tok.endColumn ?? tok.startColumn!) + 1 },
    },
  };
}

const BaseVisitor = parser.getBaseCstVisitorConstructor();

class TreeBuilder extends BaseVisitor {
  private file = '';
  private diagnostics: Diagnostic[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  build(cst: CstNode, text: string, file: string, diagnostics: Diagnostic[]): Node {
    this.file = file;
    this.diagnostics = diagnostics;
    return this.spec(cst, text);
  }

  spec(cst: CstNode, text: string): Node {
    const lines = text.split('\n');
    const whole: Loc = { file: this.file, range: { start: { line: 1, column: 1 }, end: { line: lines.length, column: lines[lines.length - 1].length + 1 } } };
    return this.object(cst.children as Ctx, whole, [], 'extendsClause', 'extends');
  }

  /** The entries of the top level or of a block; `use`/`extends` clauses gather into one entry. */
  private object(ctx: Ctx, loc: Loc, path: SpecPath, clauseRule: string, clauseKey: string): Node {
    const entries: Entry[] = [];
    const misplaced = clauseRule === 'useClause' ? 'extendsClause' : 'useClause';
    for (const c of nodes(ctx, misplaced)) {
      const keyword = (c.children as Ctx)[misplaced === 'useClause' ? 'Use' : 'Extends']?.[0] as IToken | undefined;
      const at = (keyword && tokenLoc(this.file, keyword)) ?? loc;
      const message = clauseKey === 'use' ? "'extends' takes a whole spec, at the top level; inside a block write 'use'" : "'use' takes a preset's block, inside that block; at the top level write 'extends'";
      this.diagnostics.push(diagnostic('E0003', at, message));
    }
    const refs = [...nodes(ctx, clauseRule), ...nodes(ctx, misplaced)]
      .map((c) => this.visit(nodes(c.children as Ctx, 'reference')[0] ?? c, loc) as Node | undefined)
      .filter((n): n is Node => n !== undefined);
    if (refs.length) {
      const value: Node = refs.length === 1 ? refs[0] : { kind: 'list', loc: refs[0].loc, items: refs };
      entries.push({ key: clauseKey, keyLoc: refs[0].loc, value });
    }
    for (const e of nodes(ctx, 'entry')) {
      const built = this.visit(e, { loc, path }) as Entry | undefined;
      if (!built) continue;
      if (entries.some((x) => x.key === built.key)) {
        this.diagnostics.push(diagnostic('E0005', built.keyLoc, `duplicate key '${built.key}'`));
        continue;
      }
      entries.push(built);
    }
    return { kind: 'object', loc, entries };
  }

  reference(ctx: Ctx, fallback: Loc): Node | undefined {
    const tok = tokens(ctx, 'Identifier')[0] ?? tokens(ctx, 'StringLiteral')[0];
    if (!tok || tok.isInsertedInRecovery) return undefined;
    const value = tok.tokenType === t.Identifier ? tok.image : unquote(tok.image);
    return { kind: 'scalar', loc: tokenLoc(this.file, tok) ?? fallback, value };
  }

  extendsClause(ctx: Ctx, fallback: Loc) {
    return this.reference(ctx, fallback);
  }

  useClause(ctx: Ctx, fallback: Loc) {
    return this.reference(ctx, fallback);
  }

  entry(ctx: Ctx, { path }: { loc: Loc; path: SpecPath }): Entry | undefined {
    const keyTok = tokens(ctx, 'Identifier')[0];
    const keyLoc = keyTok && tokenLoc(this.file, keyTok);
    if (!keyLoc) return undefined;
    const key = keyTok.image;
    const tail = nodes(ctx, 'entryTail')[0];
    const value = tail && (this.visit(tail, { loc: keyLoc, path: [...path, key] }) as Node | undefined);
    return value ? { key, keyLoc, value } : undefined;
  }

  entryTail(ctx: Ctx, arg: { loc: Loc; path: SpecPath }): Node | undefined {
    const value = nodes(ctx, 'value')[0];
    if (value) return this.visit(value, arg);
    const block = nodes(ctx, 'block')[0];
    return block ? this.block(block.children as Ctx, arg) : undefined;
  }

  block(ctx: Ctx, { loc, path }: { loc: Loc; path: SpecPath }): Node {
    return this.object(ctx, this.span(tokens(ctx, 'LCurly')[0], tokens(ctx, 'RCurly')[0], loc), path, 'useClause', 'use');
  }

  /** From an opening bracket to its closing one (or the opening one alone when recovery made it up). */
  private span(open: IToken | undefined, close: IToken | undefined, fallback: Loc): Loc {
    const a = open && tokenLoc(this.file, open);
    const b = close && !close.isInsertedInRecovery ? tokenLoc(this.file, close) : undefined;
    return a ? { file: this.file, range: { start: a.range.start, end: (b ?? a).range.end } } : fallback;
  }

  value(ctx: Ctx, arg: { loc: Loc; path: SpecPath; inList?: boolean }): Node | undefined {
    for (const name of ['tagged', 'list', 'block']) {
      const child = nodes(ctx, name)[0];
      if (!child) continue;
      if (name === 'tagged') return this.visit(child, arg);
      return name === 'block' ? this.block(child.children as Ctx, arg) : this.list(child.children as Ctx, arg);
    }
    const tok = (['NumberLiteral', 'StringLiteral', 'True', 'False'] as const).map((n) => tokens(ctx, n)[0]).find(Boolean);
    if (!tok || tok.isInsertedInRecovery) return undefined;
    const loc = tokenLoc(this.file, tok) ?? arg.loc;
    if (tok.tokenType === t.NumberLiteral) return { kind: 'scalar', loc, value: Number(tok.image) };
    if (tok.tokenType === t.StringLiteral) return { kind: 'scalar', loc, value: unquote(tok.image) };
    return { kind: 'scalar', loc, value: tok.tokenType === t.True };
  }

  tagged(ctx: Ctx, { loc, path, inList }: { loc: Loc; path: SpecPath; inList?: boolean }): Node | undefined {
    const tok = tokens(ctx, 'Identifier')[0];
    const nameLoc = tok && tokenLoc(this.file, tok);
    if (!nameLoc) return undefined;
    const blockCst = nodes(ctx, 'block')[0];
    const nearestKey = [...path].reverse().find((p) => typeof p === 'string');
    if (!blockCst && !(inList && TAGGED_LISTS.has(String(nearestKey)))) return { kind: 'scalar', loc: nameLoc, value: tok.image };
    const tag = path.includes('augment') ? 'op' : 'type';
    const body = blockCst ? this.block(blockCst.children as Ctx, { loc, path }) : { kind: 'object' as const, loc: nameLoc, entries: [] };
    if (body.kind !== 'object') return body;
    const tagEntry: Entry = { key: tag, keyLoc: nameLoc, value: { kind: 'scalar', loc: nameLoc, value: tok.image } };
    const rest = body.entries.filter((e) => {
      if (e.key !== tag) return true;
      this.diagnostics.push(diagnostic('E0005', e.keyLoc, `duplicate key '${tag}': the block's name '${tok.image}' already sets it`));
      return false;
    });
    const whole = { ...nameLoc, range: { start: nameLoc.range.start, end: body.loc.range.end } };
    return { kind: 'object', loc: whole, entries: [tagEntry, ...rest] };
  }

  list(ctx: Ctx, { loc, path }: { loc: Loc; path: SpecPath }): Node {
    const items = nodes(ctx, 'value')
      .map((v, i) => this.visit(v, { loc, path: [...path, i], inList: true }) as Node | undefined)
      .filter((n): n is Node => n !== undefined);
    return { kind: 'list', loc: this.span(tokens(ctx, 'LBracket')[0], tokens(ctx, 'RBracket')[0], loc), items };
  }
}

// One instance, like the parser: checking the visitor against the grammar is done once.
const builder = new TreeBuilder();

function unquote(image: string): string {
  const body = image.endsWith('"') && image.length > 1 ? image.slice(1, -1) : image.slice(1);
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}
