import { previewText } from "./bounded-json.js";

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
  // Anything can be thrown, a client's 10,000-deep value or a bigint among them: render it
  // bounded, so that logging an error never throws in its turn.
  return typeof error === "string" ? error : previewText(error, LOGGED_CHARS);
}

const LOGGED_CHARS = 1_000;
