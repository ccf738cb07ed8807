import { styleText } from "node:util";

/** A stream the command writes to; `isTTY` is set on a terminal (node's tty.WriteStream). */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Where a command's output goes and what it may look like. */
export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * Colour and progress only on a terminal, and never when NO_COLOR is set to anything
 * (no-color.org) or TERM is "dumb": output piped to a file or a script stays plain text.
 */
export function colourOn(stream: OutStream, env: NodeJS.ProcessEnv): boolean {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return stream.isTTY === true && !noColour && env.TERM !== "dumb";
}

/** Progress lines (rewritten in place) only on a terminal. */
export function progressOn(stream: OutStream): boolean {
  return stream.isTTY === true;
}

type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";

/** Styling that is the identity when colour is off. */
export interface Painter {
  (style: Style, text: string): string;
}

export function painter(on: boolean): Painter {
  return on ? (style, text) => styleText(style, text) : (_style, text) => text;
}

/** One JSON document on one line: what `--json` prints, for scripts to parse. */
export function printJson(stream: OutStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}
