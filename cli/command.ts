import path from "node:path";
import type { Command } from "commander";
import { findConfig, layeredEnv, type LoadedConfig } from "./config.js";
import { colourOn, painter, progressOn, type CliIo, type Painter } from "./output.js";

/** What every subcommand gets: the streams, and its configuration. */
export class CliContext {
  /** Set by a command that keeps the process running (serve, ingest) after its action returns. */
  longRunning = false;
  /** A command's own non-zero outcome that is not an error (checksum: the regions differ). */
  exitCode = 0;
  readonly paint: Painter;
  readonly paintErr: Painter;

  constructor(readonly io: CliIo) {
    this.paint = painter(colourOn(io.stdout, io.env));
    this.paintErr = painter(colourOn(io.stderr, io.env));
  }

  /** Whether stderr may show progress lines. */
  get progress(): boolean {
    return progressOn(this.io.stderr);
  }

  /** strata.json for this invocation (the global --config, STRATA_CONFIG, or the nearest one). */
  config(command: Command): LoadedConfig | undefined {
    const explicit = command.optsWithGlobals<{ config?: string }>().config;
    return findConfig(this.io.cwd, this.io.env, explicit);
  }

  /**
   * The environment the command runs with: strata.json, then the process environment, then
   * `flags` (environment variable name to value; undefined ones are left out).
   */
  env(command: Command, flags: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return layeredEnv(this.io.env, this.config(command), flags);
  }

  /** A path given on the command line, made absolute against the current folder. */
  resolve(file: string): string {
    return path.resolve(this.io.cwd, file);
  }

  out(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  err(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}

/**
 * One subcommand: its file in cli/commands/ defines its arguments, flags, help and action on
 * the commander program. cli/commands/index.ts lists them all.
 */
export interface CommandSpec {
  name: string;
  register(program: Command, context: CliContext): void;
}

/** The help text's closing example, shown by `strata <command> --help`. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
