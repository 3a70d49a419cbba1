#!/usr/bin/env node
/**
 * @packageDocumentation
 * The `scribe` command's entry point: runs the program and turns what it returns or
 * throws into the exit code (0 success, 1 failure with the reason on stderr, 2 usage).
 */
import { runScribe } from './program.js';

// `scribe help | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

runScribe(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`scribe: ${e instanceof Error ? e.message : String(e)}\n`);
    let cause = e instanceof Error ? e.cause : undefined;
    while (cause instanceof Error) {
      process.stderr.write(`  caused by: ${cause.message}\n`);
      cause = cause.cause;
    }
    process.exitCode = 1;
  },
);
