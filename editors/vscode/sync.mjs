// The extension ships copies of the repository's TextMate grammar and spec schema: VS Code reads
// contributed files only from inside the extension's folder, and grammar/ stays their one source.
import { copyFileSync, mkdirSync } from 'node:fs';

const grammar = new URL('../../grammar/', import.meta.url);
const generated = new URL('./generated/', import.meta.url);
mkdirSync(generated, { recursive: true });
for (const file of ['simclr.tmLanguage.json', 'simclr.schema.json']) {
  copyFileSync(new URL(file, grammar), new URL(file, generated));
}
