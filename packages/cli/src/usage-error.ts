/**
 * A command-line mistake: an option value that cannot be used, or options that do not
 * go together. The message names the flag (or environment variable) and says what to
 * change; the CLI prints it with the command's usage and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
