import { CommanderError } from "commander";
import { StackError } from "../dev/stack/stack-error.js";
import { isStrataError, type StrataError } from "../shared/errors.js";
import { hintFor } from "./hints.js";

/** The command's exit codes (docs/cli.md): 0 ok, 1 a user error, 2 an internal error. */
export const EXIT = { ok: 0, user: 1, internal: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A failure the user can act on: printed as one line, then a hint line (what to do), and the
 * command exits 1. Never printed with a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** How a failure is reported: its exit code, one line, an optional hint, optional detail lines. */
export interface FailureReport {
  exitCode: ExitCode;
  message: string;
  hint?: string;
  /** Further lines (a rejected batch's rows); printed between the message and the hint. */
  details: string[];
}

/**
 * Sorts a thrown value into a user error (exit 1: bad input or configuration, a server or a
 * stack that answers with a StrataError, anything the user can fix) or an internal one (exit
 * 2: a bug, or STRATA_E_INTERNAL).
 */
export function describeFailure(error: unknown): FailureReport {
  if (error instanceof UserError) {
    return { exitCode: EXIT.user, message: error.message, hint: error.hint, details: [] };
  }
  if (error instanceof StackError) {
    return { exitCode: EXIT.user, message: error.message, hint: error.hint, details: [] };
  }
  if (isStrataError(error)) {
    return {
      exitCode: error.code === "STRATA_E_INTERNAL" ? EXIT.internal : EXIT.user,
      message: `${error.code}: ${error.message}`,
      hint: hintFor(error),
      details: rejectedRows(error),
    };
  }
  if (error instanceof CommanderError) {
    return { exitCode: EXIT.user, message: error.message, details: [] };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: EXIT.internal,
    message: `internal error: ${message}`,
    hint: "this is a bug in strata; run again with STRATA_DEBUG=1 for the stack trace, and report it",
    details: [],
  };
}

/** A rejected batch's rows (details.rejected), at most a few: each with its index and reason. */
function rejectedRows(error: StrataError): string[] {
  const rejected = error.details.rejected;
  if (!Array.isArray(rejected)) return [];
  const lines = rejected.slice(0, 5).map((row: unknown) => {
    const { index, code, message } = (row ?? {}) as Record<string, unknown>;
    return `  row ${String(index)}: ${String(code)}: ${String(message)}`;
  });
  if (rejected.length > 5) lines.push(`  ... and ${rejected.length - 5} more`);
  return lines;
}
