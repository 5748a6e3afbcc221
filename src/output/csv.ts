/** One RFC 4180 field: quoted when it holds a comma, quote, or line break. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (CRLF-free: lines end in \n, as Unix tools expect). */
export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(',') + '\n';
}
