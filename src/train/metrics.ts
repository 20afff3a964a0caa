// metrics.jsonl: one JSON object per line, appended as training goes, so a crash loses at most the
// line being written and any tool can read the file while the run continues.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CodedError } from '../spec/index.js';

export type MetricsRecord = Record<string, unknown> & { step?: number };

export class MetricsLog {
  private constructor(readonly path: string) {}

  /**
   * Opens the log for appending. When resuming from step `resumeStep`, records of that step and
   * later (written after the checkpoint the run resumes from) are dropped, so the file reads as if
   * the run had never stopped.
   */
  static open(path: string, resumeStep?: number): MetricsLog {
    if (resumeStep === undefined || !existsSync(path)) writeFileSync(path, '');
    else {
      const kept = readMetrics(path).filter((r) => r.step === undefined || r.step < resumeStep);
      writeFileSync(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    return new MetricsLog(path);
  }

  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record, finite)}\n`);
  }
}

/** JSON has no NaN or Infinity: they are written as strings so the line still parses. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Every record of a metrics file; a torn last line (a crash mid-write) is skipped, any other bad line names its place. */
export function readMetrics(file: string): MetricsRecord[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const records: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let record: MetricsRecord;
    try {
      record = JSON.parse(line) as MetricsRecord;
    } catch (err) {
      if (i === lines.length - 1) return;
      throw new CodedError('E0506', `${file}:${i + 1}`, `not a JSON line (${(err as Error).message})`);
    }
    if (!record || typeof record !== 'object' || Array.isArray(record) || (record.step !== undefined && !Number.isInteger(record.step))) {
      throw new CodedError('E0506', `${file}:${i + 1}`, 'not a metrics record (a JSON object whose step is a whole number)');
    }
    records.push(record);
  });
  return records;
}
