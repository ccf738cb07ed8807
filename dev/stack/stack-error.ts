/**
 * A failure of the local stack that the user can act on. The CLI prints `message`
 * as one line, then `hint` (what to do), and exits non-zero; it never prints a
 * stack trace for these.
 */
export class StackError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "StackError";
  }
}
