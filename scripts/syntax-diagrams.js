// Writes grammar/diagrams.html: railroad diagrams of the `.simclr` grammar, drawn from the parser
// itself (chevrotain's createSyntaxDiagramsCode), so they cannot drift from it. Run after a build:
// `npx tsc -p . && node scripts/syntax-diagrams.js`.
import { writeFileSync } from 'node:fs';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { parser } from '../build/src/spec/parser.js';

const html = createSyntaxDiagramsCode(parser.getSerializedGastProductions());
writeFileSync(new URL('../grammar/diagrams.html', import.meta.url), html);
