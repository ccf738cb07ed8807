/** A cell: its text, and optionally a style applied after padding (so widths stay right). */
export interface Cell {
  text: string;
  paint?: (text: string) => string;
}

/**
 * A plain-text table: a header row, a rule, then one line per row; every column as wide as its
 * widest cell. Widths count characters, so styling (ANSI codes) is applied after padding.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i]?.text.length ?? 0)),
  );
  const line = (cells: readonly Cell[]) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell.text : cell.text.padEnd(widths[i]!);
        return cell.paint ? cell.paint(padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [
    line(header.map((text) => ({ text }))),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}
