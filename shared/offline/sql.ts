/** A SQL identifier, double-quoted (DuckDB and Spark with ANSI quoting read it the same way). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. */
export function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A Spark SQL identifier: backquoted. */
export function sparkIdent(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}
