import { Option, type Command } from 'commander';
import { curveKeyPair } from '@scribe/transport';
import { FileExistsError, writePrivateFile } from '../private-file.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { stringOption } from '../shared-options.js';

/** `scribe keygen`: a new CURVE key pair for the cluster, written owner-only with `--out`. */
export function keygenCommand(): Command {
  const cmd = scribeCommand('keygen', 'make a new CURVE key pair for the cluster (for --curve-keys): --out FILE writes it owner-only')
    .addOption(new Option('--out <file>', 'write the keys to this new file, mode 0600 (without it they are printed)'))
    .addOption(new Option('--force', 'replace the --out file if it exists'));
  return setAction(cmd, (c) => {
    const keys = curveKeyPair();
    const json = `${JSON.stringify({ publicKey: keys.publicKey, secretKey: keys.secretKey }, null, 2)}\n`;
    const out = stringOption(c, 'out');
    if (out === undefined) {
      process.stderr.write(
        'scribe keygen: printing the secret key; a file you redirect it to gets your umask\'s mode (often readable by every user): prefer --out FILE, which writes it 0600\n',
      );
      process.stdout.write(json);
      return 0;
    }
    try {
      writePrivateFile(out, json, { force: c.getOptionValue('force') === true });
    } catch (e) {
      if (e instanceof FileExistsError) {
        process.stderr.write(`scribe keygen: ${e.message}\n`);
        return 1;
      }
      throw new Error(`cannot write --out ${out}`, { cause: e });
    }
    process.stdout.write(`wrote ${out} (mode 0600); public key ${keys.publicKey}\n`);
    return 0;
  });
}
