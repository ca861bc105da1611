// Client-side export of history rows as CSV (common/history-export.ts, the CLI's too) or
// JSON, downloaded as a Blob.
import type { MigrationRecord } from '../../../preload/model';

export { toCsv } from '../../../common/history-export';

export function toJson(rows: MigrationRecord[]): string {
  return JSON.stringify(rows, null, 2);
}

export function download(text: string, filename: string, type: string): void {
  downloadBytes(text, filename, type);
}

export function downloadBytes(data: string | Uint8Array<ArrayBuffer>, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
