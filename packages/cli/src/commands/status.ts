import { Option, type Command } from 'commander';
import { readCurveKeys } from '../curve-keys-file.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { curveKeysOption, dbOption, primaryTimeoutMs, primaryTimeoutOption, stringOption } from '../shared-options.js';
import { formatStatus, getStatus } from '../status-report.js';

/** How long `status` waits for the primary by default. */
export const DEFAULT_STATUS_TIMEOUT_MS = 2000;

/** `scribe status`: ask the cluster's primary for its facts and its members. */
export function statusCommand(): Command {
  const cmd = scribeCommand('status', "ask the cluster's primary for its role, pid, endpoints, schema, queue depth and members")
    .addOption(dbOption())
    .addOption(new Option('--json', 'print JSON instead of a table'))
    .addOption(primaryTimeoutOption('how long to wait for the primary', DEFAULT_STATUS_TIMEOUT_MS))
    .addOption(curveKeysOption());
  return setAction(cmd, async (c) => {
    const timeoutMs = primaryTimeoutMs(c);
    const report = await getStatus(stringOption(c, 'db')!, timeoutMs, readCurveKeys(stringOption(c, 'curveKeys')));
    process.stdout.write(c.getOptionValue('json') === true ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
    return report.ok ? 0 : 1;
  });
}
