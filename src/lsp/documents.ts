// Which open documents are specs, and in which syntax. `.simclr` files always are; YAML files are
// when named `*.simclr.yml` / `*.simclr.yaml` or when they carry the schema modeline, so the server
// stays quiet on every other YAML file in a workspace.
import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';

export type SpecSyntax = 'simclr' | 'yaml';

export interface SpecDocument {
  doc: TextDocument;
  syntax: SpecSyntax;
  /** A file-system path when the URI is a file: URI (relative `extends` resolve against it). */
  fileName: string;
}

const MODELINE = /^#\s*yaml-language-server:\s*\$schema=\S*simclr\.schema\.json/m;

export function specSyntax(uri: string, text: string): SpecSyntax | undefined {
  const name = uri.toLowerCase();
  if (name.endsWith('.simclr')) return 'simclr';
  if (/\.simclr\.ya?ml$/.test(name)) return 'yaml';
  // Only the head of the file is searched: a modeline is a comment at the top.
  if (/\.ya?ml$/.test(name) && MODELINE.test(text.slice(0, 2000))) return 'yaml';
  return undefined;
}

export function asSpecDocument(doc: TextDocument): SpecDocument | undefined {
  const syntax = specSyntax(doc.uri, doc.getText());
  if (!syntax) return undefined;
  return { doc, syntax, fileName: uriToFileName(doc.uri) };
}

export function uriToFileName(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return uri;
    }
  }
  return uri;
}
