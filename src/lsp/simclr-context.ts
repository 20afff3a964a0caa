// Where an offset sits in a `.simclr` file, read from the front end's own token stream (never a
// second lexer): which block or list holds it, under which spec path, whether a key or a value goes
// there, and the tagged block's tag. Tolerant by construction: it only counts brackets, so it
// answers for half-typed text the parser rejects.
import type { SpecPath } from './schema-docs.js';

export type TokenKind = 'lbrace' | 'rbrace' | 'lbracket' | 'rbracket' | 'colon' | 'comma' | 'ident' | 'string' | 'number' | 'extends' | 'use' | 'boolean' | 'other';

export interface SpecToken {
  kind: TokenKind;
  image: string;
  start: number; // offset of the first character
  end: number; // offset after the last character
}

export type Slot =
  | { at: 'key' } // where a field name (or `use`) goes
  | { at: 'value'; key: string } // after `key:`
  | { at: 'item' } // in a list, where an item starts
  | { at: 'reference'; keyword: 'extends' | 'use' }; // after `extends` / `use`

export interface SimclrContext {
  /** The spec path of the innermost block holding the offset, or of the list item at it. */
  path: SpecPath;
  /** The tag of the innermost tagged block (`conv` in `conv { … }`), as `{ key: 'type', value: 'conv' }`. */
  tag?: { key: string; value: string };
  slot: Slot;
  /** The token the offset touches (for hover and definition), with its role. */
  token?: TouchedToken;
}

export type Role = 'key' | 'tag' | 'value' | 'reference' | 'keyword' | 'other';

export interface TouchedToken extends SpecToken {
  role: Role;
  /** For a value or a tag after `key:`: that key. For a reference: `extends` or `use`. */
  key?: string;
}

interface Frame {
  kind: 'block' | 'list';
  path: SpecPath;
  tag?: { key: string; value: string };
  items: number; // lists: items started so far
}

/** The discriminator of tagged blocks: `op` inside `augment`, `type` everywhere else. */
export function tagKey(path: SpecPath): string {
  return path[0] === 'augment' ? 'op' : 'type';
}

/**
 * Walks the tokens before `offset` (sorted, comments left out). A token that holds the offset or
 * ends right at it (a word being typed) is reported with its role.
 */
export function simclrContext(tokens: SpecToken[], offset: number): SimclrContext {
  const stack: Frame[] = [{ kind: 'block', path: [], items: 0 }];
  let key: string | undefined; // `key:` seen, its value not yet complete
  let pending: SpecToken | undefined; // an identifier whose role the next token decides
  let keyword: 'extends' | 'use' | undefined;
  let touched: TouchedToken | undefined;
  const top = () => stack[stack.length - 1];

  for (let i = 0; i < tokens.length && tokens[i].start < offset; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    const frame = top();
    const role = roleOf(t, frame, key, keyword, next);
    touched = t.end >= offset ? { ...t, role, key: role === 'value' || role === 'tag' ? key : role === 'reference' ? keyword : undefined } : undefined;
    if (frame.kind === 'list' && startsItem(t, tokens[i - 1])) frame.items++;
    switch (t.kind) {
      case 'extends':
      case 'use':
        keyword = t.kind;
        key = undefined;
        pending = undefined;
        break;
      case 'ident':
      case 'string':
        if (keyword) keyword = undefined;
        else if (t.kind === 'ident' && (next?.kind === 'lbrace' || (frame.kind === 'block' && key === undefined))) pending = t;
        else key = undefined;
        break;
      case 'colon':
        if (frame.kind === 'block' && pending) key = pending.image;
        pending = undefined;
        break;
      case 'lbrace': {
        const path = childPath(frame, key, pending);
        const tagged = pending && (key !== undefined || frame.kind === 'list');
        stack.push({ kind: 'block', path, tag: tagged ? { key: tagKey(path), value: pending!.image } : undefined, items: 0 });
        key = undefined;
        pending = undefined;
        break;
      }
      case 'lbracket':
        stack.push({ kind: 'list', path: childPath(frame, key, undefined), items: 0 });
        key = undefined;
        pending = undefined;
        break;
      case 'rbrace':
      case 'rbracket':
        if (stack.length > 1) stack.pop();
        key = undefined;
        pending = undefined;
        break;
      default:
        key = undefined;
        pending = undefined;
        keyword = undefined;
    }
  }

  const frame = top();
  let slot: Slot;
  if (touched?.role === 'value' && touched.key !== undefined) slot = { at: 'value', key: touched.key };
  else if (touched?.role === 'key') slot = { at: 'key' };
  else if (touched?.role === 'reference') slot = { at: 'reference', keyword: touched.key as 'extends' | 'use' };
  else if (keyword) slot = { at: 'reference', keyword };
  else if (frame.kind === 'list') slot = { at: 'item' };
  else if (key !== undefined) slot = { at: 'value', key };
  else slot = { at: 'key' };
  // In a list, the item being typed is the last one started; otherwise the next one.
  const typing = touched !== undefined && touched.kind !== 'comma' && touched.kind !== 'lbracket';
  const path = frame.kind === 'list' ? [...frame.path, typing ? Math.max(0, frame.items - 1) : frame.items] : frame.path;
  return { path, tag: frame.tag, slot, token: touched };
}

function roleOf(t: SpecToken, frame: Frame, key: string | undefined, keyword: string | undefined, next: SpecToken | undefined): Role {
  if (t.kind === 'extends' || t.kind === 'use') return 'keyword';
  if (keyword && (t.kind === 'ident' || t.kind === 'string')) return 'reference';
  if (t.kind === 'ident') {
    if (frame.kind === 'list') return 'tag';
    if (key !== undefined) return next?.kind === 'lbrace' ? 'tag' : 'value';
    return 'key';
  }
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'boolean') return key !== undefined ? 'value' : 'other';
  return 'other';
}

function startsItem(t: SpecToken, previous: SpecToken | undefined): boolean {
  if (t.kind === 'comma' || t.kind === 'rbracket' || t.kind === 'rbrace' || t.kind === 'colon') return false;
  // `conv { … }` is one item: its brace continues the item the name started.
  return !(t.kind === 'lbrace' && previous?.kind === 'ident');
}

function childPath(frame: Frame, key: string | undefined, pending: SpecToken | undefined): SpecPath {
  if (frame.kind === 'list') return [...frame.path, Math.max(0, frame.items - 1)];
  if (key !== undefined) return [...frame.path, key];
  return pending ? [...frame.path, pending.image] : frame.path;
}

/** The keys already written in the block that holds `offset` (before and after it), the word at the offset left out. */
export function blockKeys(tokens: SpecToken[], offset: number): Set<string> {
  let start = 0;
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i];
    if (t.start >= offset) continue;
    if (t.kind === 'rbrace' || t.kind === 'rbracket') depth++;
    else if (t.kind === 'lbrace' || t.kind === 'lbracket') {
      if (depth === 0) {
        if (t.kind === 'lbracket') return new Set();
        start = i + 1;
        break;
      }
      depth--;
    }
  }
  const keys = new Set<string>();
  depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'lbrace' || t.kind === 'lbracket') depth++;
    else if (t.kind === 'rbrace' || t.kind === 'rbracket') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && t.kind === 'ident' && tokens[i - 1]?.kind !== 'colon' && (tokens[i + 1]?.kind === 'colon' || tokens[i + 1]?.kind === 'lbrace')) {
      if (!(t.start <= offset && offset <= t.end)) keys.add(t.image);
    }
  }
  return keys;
}
