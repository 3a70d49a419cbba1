import { readFileSync } from 'node:fs';
import { assertCurveKey } from '@scribe/transport';

/** The cluster's CURVE keys as `--curve-keys FILE` holds them. */
export interface CurveKeysFile {
  readonly publicKey: string;
  readonly secretKey: string;
  readonly allowedClientKeys?: string[];
}

/** Reads and checks the cluster's CURVE keys file; undefined when no file is given. */
export function readCurveKeys(file: string | undefined): CurveKeysFile | undefined {
  if (file === undefined) return undefined;
  let keys: { publicKey?: unknown; secretKey?: unknown; allowedClientKeys?: unknown };
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as typeof keys;
  } catch (e) {
    throw new Error(`cannot read --curve-keys ${file}: expected JSON {"publicKey", "secretKey"} as 'scribe keygen' writes it`, { cause: e });
  }
  assertCurveKey('publicKey', keys.publicKey);
  assertCurveKey('secretKey', keys.secretKey);
  const allowed = Array.isArray(keys.allowedClientKeys) ? keys.allowedClientKeys.map((k, i) => assertCurveKey(`allowedClientKeys[${i}]`, k)) : undefined;
  return { publicKey: keys.publicKey as string, secretKey: keys.secretKey as string, ...(allowed === undefined ? {} : { allowedClientKeys: allowed }) };
}
