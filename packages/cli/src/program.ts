import { Command, CommanderError } from 'commander';
import { cliVersion } from './cli-version.js';
import { COMMANDS } from './commands/index.js';
import { finishCommand, PROGRAM_NAME, USAGE_EXIT_CODE } from './scribe-command.js';

/** The `scribe` program: its sub-commands, `--version` and `help [command]`. */
export function createProgram(): Command {
  const program = new Command(PROGRAM_NAME)
    .description('scribe: several local processes sharing one SQLite database through one writer')
    .version(cliVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show the commands')
    .helpCommand('help [command]', "show a command's options")
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`${PROGRAM_NAME}: ${message.replace(/^error: /, '')}`) })
    .showHelpAfterError(`(see '${PROGRAM_NAME} --help')`)
    .addHelpText('after', '\nEvery option, with its environment variable and default: docs/operations.md');
  for (const make of COMMANDS) program.addCommand(finishCommand(make()));
  return program;
}

/** Parser outcomes that are not errors: help or the version was printed (their exit code is commander's: 0). */
const NOT_ERRORS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Runs `scribe` with argv (without node and script) and returns the exit code:
 * what the command returned, 0 after help or `--version`, 2 for a usage error
 * (already reported on stderr). Other errors are thrown.
 */
export async function runScribe(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return NOT_ERRORS.has(e.code) ? e.exitCode : USAGE_EXIT_CODE;
    throw e;
  }
  return Number(process.exitCode ?? 0);
}
