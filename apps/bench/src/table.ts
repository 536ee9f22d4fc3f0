// Formatting of the result table (GitHub markdown, so that it can go into a README as printed).

export type Unit = 'GFLOP/s' | 'ms';

/** A measured cell, or the reason there is none. */
export type Cell = { readonly value: number; readonly runs: number } | { readonly error: string };

export function formatValue(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${ratio.toFixed(0)}×`;
  if (ratio >= 0.1) return `${ratio.toFixed(2)}×`;
  return `${ratio.toPrecision(2)}×`;
}

/**
 * How many times faster tsgrad is than the peer: the peer's time over tsgrad's, which for
 * GFLOP/s is tsgrad's rate over the peer's.
 */
export function speedRatio(unit: Unit, tsgrad: number, peer: number): number {
  return unit === 'ms' ? peer / tsgrad : tsgrad / peer;
}

/** A markdown table with every column padded to its widest cell. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
