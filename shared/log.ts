/** One JSON line per event on stdout: what container platforms collect and index. */
export function log(
  level: "info" | "warn" | "error",
  message: string,
  fields: Record<string, unknown> = {},
): void {
  process.stdout.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), message, ...fields })}\n`,
  );
}

/** An error as a log field: its message (and code), never a stack a log reader does not need. */
export function errorField(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${error.message}` : error.message;
  }
  return typeof error === "string" ? error : (JSON.stringify(error) ?? "undefined");
}
