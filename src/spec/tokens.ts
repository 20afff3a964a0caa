// The `.simclr` tokens, grouped by category so the parser, the syntax diagrams and editors can ask
// "any literal" or "any keyword" instead of listing tokens. grammar/README.md documents each one.
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });
export const Literal = createToken({ name: 'Literal', pattern: Lexer.NA });
export const Punctuation = createToken({ name: 'Punctuation', pattern: Lexer.NA });

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
// Comments are kept on their own channel: the formatter puts them back.
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\n\r]*/, group: 'comments' });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/, label: 'a name' });
const keyword = (word: string, categories: TokenType[] = []) =>
  createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, categories: [Keyword, ...categories], label: `'${word}'` });
export const Extends = keyword('extends');
export const Use = keyword('use');
export const True = keyword('true', [Literal]);
export const False = keyword('false', [Literal]);

export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  categories: [Literal],
  label: 'a number',
});
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n\r]|\\.)*"/, categories: [Literal], label: 'a string' });
// A string missing its closing quote is lexed to the end of its line, so the error is one message
// ("unterminated string") rather than a cascade of stray tokens.
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n\r]|\\.)*/, label: 'a string' });

const punct = (name: string, pattern: string) =>
  createToken({ name, pattern: new RegExp(pattern.replace(/[[\]{}]/g, '\\$&')), categories: [Punctuation], label: `'${pattern}'` });
export const LCurly = punct('LCurly', '{');
export const RCurly = punct('RCurly', '}');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
export const Colon = punct('Colon', ':');
export const Comma = punct('Comma', ',');

export const allTokens: TokenType[] = [
  WhiteSpace, Comment, Extends, Use, True, False, Identifier, NumberLiteral, StringLiteral, UnterminatedString,
  LCurly, RCurly, LBracket, RBracket, Colon, Comma, Keyword, Literal, Punctuation,
];

export const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
