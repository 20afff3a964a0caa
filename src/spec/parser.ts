// The `.simclr` CST parser: grammar rules only, no actions (src/spec/cst-to-tree.ts gives them
// meaning). One instance serves every parse. Error recovery is on, so a typo costs one message and
// the rest of the file still parses. The EBNF in grammar/README.md mirrors these rules.
import { CstParser, EOF, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as t from './tokens.js';

const describe = (token: IToken): string => {
  if (token.tokenType === EOF) return 'the end of the file';
  if (token.tokenType === t.Identifier) return `'${token.image}'`;
  return token.tokenType.LABEL && !token.tokenType.LABEL.startsWith("'") ? `${token.tokenType.LABEL} ${token.image}` : `'${token.image}'`;
};
const label = (type: TokenType) => type.LABEL ?? type.name;

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? `unexpected ${describe(actual)}: expected a key` : `expected ${label(expected)}, found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `unexpected ${describe(firstRedundant)}: expected a key`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = [...new Set(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => label(path[0]))))];
    const what = ruleName === 'value' ? 'a value' : ruleName === 'entryTail' ? "':' or '{' after the key" : firsts.join(' or ');
    return `expected ${what}, found ${describe(actual[0])}`;
  },
  buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${ruleName}, found ${describe(actual[0])}`,
};

class SpecParser extends CstParser {
  constructor() {
    super(t.allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  // `use` at the top level and `extends` in a block parse, so the tree builder can say what to
  // write instead, rather than the parser losing its way.
  spec = this.RULE('spec', () => {
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.extendsClause) }, { ALT: () => this.SUBRULE(this.useClause) }, { ALT: () => this.SUBRULE(this.entry) }, { ALT: () => this.CONSUME(t.Comma) }]));
  });

  extendsClause = this.RULE('extendsClause', () => {
    this.CONSUME(t.Extends);
    this.SUBRULE(this.reference);
  });

  useClause = this.RULE('useClause', () => {
    this.CONSUME(t.Use);
    this.SUBRULE(this.reference);
  });

  reference = this.RULE('reference', () => {
    this.OR([{ ALT: () => this.CONSUME(t.Identifier) }, { ALT: () => this.CONSUME(t.StringLiteral) }]);
  });

  entry = this.RULE('entry', () => {
    this.CONSUME(t.Identifier);
    this.SUBRULE(this.entryTail);
  });

  entryTail = this.RULE('entryTail', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Colon);
          this.SUBRULE(this.value);
        },
      },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  block = this.RULE('block', () => {
    this.CONSUME(t.LCurly);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.useClause) }, { ALT: () => this.SUBRULE(this.extendsClause) }, { ALT: () => this.SUBRULE(this.entry) }, { ALT: () => this.CONSUME(t.Comma) }]));
    this.CONSUME(t.RCurly);
  });

  value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.NumberLiteral) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
      { ALT: () => this.CONSUME(t.True) },
      { ALT: () => this.CONSUME(t.False) },
      { ALT: () => this.SUBRULE(this.tagged) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  tagged = this.RULE('tagged', () => {
    this.CONSUME(t.Identifier);
    this.OPTION(() => this.SUBRULE(this.block));
  });

  list = this.RULE('list', () => {
    this.CONSUME(t.LBracket);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.value) }, { ALT: () => this.CONSUME(t.Comma) }]));
    this.CONSUME(t.RBracket);
  });
}

export const parser = new SpecParser();

/** Parses tokens into a CST; errors land in `parser.errors` until the next call. */
export function parseTokens(tokens: IToken[]): CstNode {
  parser.input = tokens;
  return parser.spec();
}
