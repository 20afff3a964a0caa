// Errors of the commands that read a run folder (report, embed, export): each carries a code from
// src/spec/codes.ts, so a user can look it up, and names the file or option at fault.
import type { Code } from '../spec/codes.js';

export class RunFolderError extends Error {
  constructor(
    readonly code: Code,
    detail: string,
  ) {
    super(`error ${code}: ${detail}`);
    this.name = 'RunFolderError';
  }
}
