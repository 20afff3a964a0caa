// Every diagnostic code, once. Codes are stable: tests, docs (grammar/README.md) and editors refer
// to them. E0000 is a bug of ours, E00xx syntax, E01xx schema, E02xx references, E03xx meaning.
export const CODES = {
  E0000: { severity: 'error', title: 'internal error of the spec front end (a bug: please report it)' },
  E0001: { severity: 'error', title: 'unexpected character' },
  E0002: { severity: 'error', title: 'unterminated string' },
  E0003: { severity: 'error', title: 'syntax error: unexpected or missing token' },
  E0004: { severity: 'error', title: "unclosed '{' or '['" },
  E0005: { severity: 'error', title: 'duplicate key' },
  E0006: { severity: 'error', title: 'YAML syntax error' },
  E0101: { severity: 'error', title: 'wrong type' },
  E0102: { severity: 'error', title: 'unknown key' },
  E0103: { severity: 'error', title: 'value not allowed' },
  E0104: { severity: 'error', title: 'value out of range' },
  E0105: { severity: 'error', title: 'missing required field' },
  E0106: { severity: 'error', title: 'invalid value (list length, form)' },
  E0201: { severity: 'error', title: 'preset or file not found' },
  E0202: { severity: 'error', title: 'extends / use cycle' },
  E0203: { severity: 'error', title: 'preset has no such block' },
  E0204: { severity: 'error', title: 'bad --set override' },
  E0301: { severity: 'error', title: "augment size larger than the data's images" },
  E0302: { severity: 'error', title: 'epochs and steps both given' },
  E0303: { severity: 'error', title: 'normalize mean/std length differs from the channels' },
  E0304: { severity: 'error', title: 'data source needs a path' },
  E0305: { severity: 'error', title: 'blur kernel must be odd' },
  E0306: { severity: 'error', title: 'a [min, max] range with min > max' },
  E0307: { severity: 'error', title: 'encoder in_channels differs from data.channels' },
  E0308: { severity: 'error', title: "finetune.from_layer beyond the projector's layers" },
  // E04xx: running across processes (src/dist/), raised when a run starts, not by the spec checks.
  E0401: { severity: 'error', title: 'MPI unusable: the addon is not built or Open MPI is missing (`npm run setup`)' },
  E0402: { severity: 'error', title: 'mpirun not found (`npm run setup` installs Open MPI)' },
} as const satisfies Record<string, { severity: 'error' | 'warning'; title: string }>;

export type Code = keyof typeof CODES;
