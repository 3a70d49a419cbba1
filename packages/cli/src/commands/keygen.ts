import type { Command } from 'commander';
import { curveKeyPair } from '@scribe/transport';
import { scribeCommand, setAction } from '../scribe-command.js';

/** `scribe keygen`: a new CURVE key pair for the cluster. */
export function keygenCommand(): Command {
  const cmd = scribeCommand('keygen', 'print a new CURVE key pair for the cluster, as JSON (for --curve-keys)');
  return setAction(cmd, () => {
    const keys = curveKeyPair();
    process.stdout.write(`${JSON.stringify({ publicKey: keys.publicKey, secretKey: keys.secretKey }, null, 2)}\n`);
    return 0;
  });
}
