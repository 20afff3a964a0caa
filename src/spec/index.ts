// The spec front end's surface: load a spec (file or text) into a resolved spec with diagnostics,
// print one back as `.simclr` or YAML, and find where a field was written.
export { isSpecError, loadSpecFile, loadSpecText, sourceRange, specComments, specErrorDiagnostic, type LoadOptions, type LoadResult, type SpecError, type SpecSources } from './load.js';
export { formatSpec, type Syntax } from './format.js';
export { formatSource, type FormatResult } from './format-source.js';
export type { Comments } from './comments.js';
export { CodedError, formatDiagnostic, hasErrors, type Diagnostic, type Loc, type Position, type Range } from './diagnostic.js';
export { CODES, type Code } from './codes.js';
export { resolvePresetPath, stdlibPresets } from './references.js';
export type { SpecPath } from './tree.js';
export type * from './types.js';
