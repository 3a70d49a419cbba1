import { Command, Option } from 'commander';
import { UsageError } from './usage-error.js';

/** The program name every message starts with. */
export const PROGRAM_NAME = 'scribe';

/**
 * What a command's action returns: the process exit code (0 success, 1 failure).
 * Usage errors are thrown as {@link UsageError} and become exit code 2.
 */
export type ExitCode = number;

/** Exit code of a usage error (unknown flag, bad value, options that do not go together). */
export const USAGE_EXIT_CODE = 2;

/**
 * A new sub-command of `scribe`, set up the way every command is: errors as one line
 * `scribe <name>: <what is wrong>` followed by the command's usage line (not its full
 * help), and no `process.exit` inside the parser (errors are thrown as
 * `CommanderError` for {@link runScribe} to map to exit codes).
 *
 * Add options with `.addOption(...)` / `.option(...)`, then give the action with
 * {@link setAction}; {@link finishCommand} (called by the program) writes the usage line.
 */
export function scribeCommand(name: string, summary: string): Command {
  const cmd = new Command(name).description(summary).helpOption('-h, --help', 'show this command\'s options');
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (message, write) => write(`${PROGRAM_NAME} ${name}: ${message.replace(/^error: /, '')}`),
  });
  return cmd;
}

/**
 * Sets a command's action. `run` gets the command (read its parsed options with
 * `cmd.opts()` and `cmd.getOptionValueSource()`) and returns the exit code, which
 * becomes `process.exitCode`; a {@link UsageError} it throws is reported like a parser
 * error, with exit code 2.
 */
export function setAction(cmd: Command, run: (cmd: Command) => Promise<ExitCode> | ExitCode): Command {
  return cmd.action(async () => {
    try {
      process.exitCode = await run(cmd);
    } catch (e) {
      if (e instanceof UsageError) cmd.error(e.message, { exitCode: USAGE_EXIT_CODE, code: 'scribe.usage' });
      throw e;
    }
  });
}

/** `[--db <path>] [--json]`: the synopsis of a command, built from its options. */
export function synopsis(cmd: Command): string {
  const parts = cmd.options
    .filter((o: Option) => o.long !== '--help')
    .map((o: Option) => `[${o.long ?? o.short ?? ''}${o.required ? ` ${o.flags.replace(/^.*?(<[^>]+>).*$/, '$1')}` : ''}]`);
  return `${PROGRAM_NAME} ${cmd.name()} ${parts.join(' ')}`.trimEnd();
}

/**
 * Completes a command once all its options are added: its usage line (shown in its
 * help and after each of its errors) and the pointer to the full reference.
 */
export function finishCommand(cmd: Command): Command {
  const line = synopsis(cmd);
  cmd.usage(line.slice(`${PROGRAM_NAME} ${cmd.name()} `.length));
  cmd.showHelpAfterError(`usage: ${line}\n(see '${PROGRAM_NAME} ${cmd.name()} --help')`);
  cmd.addHelpText('after', '\nEvery option, with its environment variable and default: docs/operations.md');
  return cmd;
}
