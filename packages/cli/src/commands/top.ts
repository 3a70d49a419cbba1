import { Option, type Command } from 'commander';
import { readCurveKeys } from '../curve-keys-file.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { curveKeysOption, dbOption, httpAddress, primaryTimeoutMs, primaryTimeoutOption, stringOption } from '../shared-options.js';
import { UsageError } from '../usage-error.js';
import { runTop } from '../top.js';

/** How long `top` waits for the primary on each refresh by default. */
export const DEFAULT_TOP_TIMEOUT_MS = 2000;

/** `scribe top`: the cluster live in the terminal (members, rates, latencies, failovers, changes). */
export function topCommand(): Command {
  const cmd = scribeCommand('top', 'watch the cluster live: members, writes/s, commit latency, failovers, refused writes and changes (q quits)')
    .addOption(dbOption())
    .addOption(new Option('--once', 'print one frame without escape codes and exit (for scripts)'))
    .addOption(primaryTimeoutOption('how long to wait for the primary on each refresh', DEFAULT_TOP_TIMEOUT_MS))
    .addOption(curveKeysOption())
    .addOption(new Option('--http <host:port>', "watch this node's /status.json instead of the primary of --db: how to watch peers of a PostgreSQL server (host defaults to 127.0.0.1)"));
  return setAction(cmd, async (c) => {
    const timeoutMs = primaryTimeoutMs(c);
    const http = httpAddress(c);
    if (http !== undefined && (c.getOptionValueSource('db') === 'cli' || c.getOptionValueSource('curveKeys') === 'cli')) {
      throw new UsageError('--http watches a node\'s listener: give it without --db and --curve-keys');
    }
    return runTop({
      db: stringOption(c, 'db')!,
      http,
      once: c.getOptionValue('once') === true,
      timeoutMs,
      curve: readCurveKeys(stringOption(c, 'curveKeys')),
    });
  });
}
