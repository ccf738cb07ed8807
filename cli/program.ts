import { Command, CommanderError } from "commander";
import { CliContext } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { describeFailure, EXIT } from "./errors.js";
import type { CliIo } from "./output.js";
import { packageInfo } from "./package-info.js";

/** The `strata` program: every subcommand of COMMANDS, help and errors going to `io`. */
export function createProgram(context: CliContext): Command {
  const { io } = context;
  const program = new Command("strata")
    .description(
      "Strata, a multi-region feature store: scaffold a feature repo, publish it, serve and ingest features, push and read them.",
    )
    .version(packageInfo().version, "-V, --version", "print the version")
    .option("--config <path>", "the strata.json to use (default: the nearest one upwards)")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(context.paintErr("red", text)),
    })
    .exitOverride();
  // Subcommands inherit the output and exitOverride settings above when they are created.
  for (const spec of COMMANDS) spec.register(program, context);
  for (const command of allCommands(program)) {
    command.showHelpAfterError(`(run ${commandPath(command)} --help for usage)`);
  }
  return program;
}

/** Every subcommand, at any depth (stack up, stack down, ...). */
export function allCommands(parent: Command): Command[] {
  return parent.commands.flatMap((command) => [command, ...allCommands(command)]);
}

/** `strata stack up` for the command `up` under `stack`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * Runs `strata <argv>` and returns its exit code (docs/cli.md): 0 ok, 1 a user error (one
 * line and a hint on stderr), 2 an internal error.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
): Promise<{ code: number; context: CliContext }> {
  const context = new CliContext(io);
  const program = createProgram(context);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return { code: context.exitCode, context };
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      return { code: error.exitCode === 0 ? EXIT.ok : EXIT.user, context };
    }
    const failure = describeFailure(error);
    io.stderr.write(`${context.paintErr("red", `strata: ${failure.message}`)}\n`);
    for (const line of failure.details) io.stderr.write(`${line}\n`);
    if (failure.hint) io.stderr.write(`  → ${failure.hint}\n`);
    if (io.env.STRATA_DEBUG && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return { code: failure.exitCode, context };
  }
}
