// Tokenizes text with grammar/simclr.tmLanguage.json through the same engine VS Code uses
// (vscode-textmate over the oniguruma WebAssembly build).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import oniguruma from 'vscode-oniguruma';
import textmate from 'vscode-textmate';

export interface TmToken {
  line: number; // 1-based, as the front end's diagnostics
  column: number; // 1-based
  text: string;
  scopes: string[];
}

const require = createRequire(import.meta.url);

export async function loadSimclrGrammar(grammarPath: string): Promise<(text: string) => TmToken[]> {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === 'source.simclr' ? textmate.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const grammar = await registry.loadGrammar('source.simclr');
  if (!grammar) throw new Error(`no grammar source.simclr in ${grammarPath}`);
  return (text) => {
    const tokens: TmToken[] = [];
    let state = textmate.INITIAL;
    text.split(/\r?\n/).forEach((lineText, i) => {
      const result = grammar.tokenizeLine(lineText, state);
      for (const t of result.tokens) {
        tokens.push({ line: i + 1, column: t.startIndex + 1, text: lineText.slice(t.startIndex, t.endIndex), scopes: t.scopes });
      }
      state = result.ruleStack;
    });
    return tokens;
  };
}
