/** How a command prints: a table for people, or the API's JSON as it came (`--json`) for scripts. */
export interface Output {
  readonly json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns, two spaces apart; numbers right-aligned. No colour: it is read and piped alike. */
export function printTable(header: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): void {
  const cells = rows.map((row) => row.map((c) => (c === null ? '-' : String(c))));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || row[i] === null));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]): string =>
    row
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...cells.map(line)].join('\n')}\n`);
}

/** Prints the answer as JSON, or hands it to `human`. */
export function show<T>(output: Output, data: T, human: (data: T) => void): void {
  if (output.json) printJson(data);
  else human(data);
}
