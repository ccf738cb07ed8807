import { stringifyExactJson } from "../shared/exact-json.js";

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

/** SGR codes (on, off) of each style. util.styleText decides by process.stdout on its own. */
const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

type Style = keyof typeof STYLES;

/** Styling that is the identity when colour is off. */
export interface Painter {
  (style: Style, text: string): string;
}

export function painter(on: boolean): Painter {
  return on
    ? (style, text) => `\x1b[${STYLES[style][0]}m${text}\x1b[${STYLES[style][1]}m`
    : (_style, text) => text;
}

/** One JSON document on one line: what `--json` prints, for scripts to parse. */
export function printJson(stream: OutStream, value: unknown): void {
  // Exact: a server's int64 beyond 2^53 (a bigint here) is printed as it answered it.
  stream.write(`${stringifyExactJson(value)}\n`);
}
