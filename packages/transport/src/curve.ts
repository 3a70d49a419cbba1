import { Reply, curveKeyPair as zmqCurveKeyPair } from 'zeromq';

/** A new CURVE key pair, Z85-encoded (40 characters each). */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  return zmqCurveKeyPair();
}

/**
 * CURVE keys of a server (ZeroMQ's CurveZMQ: encryption and authentication over
 * tcp). Keys are 40-character Z85 strings, as `curveKeyPair()` makes them.
 */
export interface CurveServerKeys {
  publicKey: string;
  secretKey: string;
  /**
   * Client public keys allowed to connect. Without a list, any client that knows
   * the server's public key completes the handshake.
   */
  allowedClientKeys?: readonly string[];
}

/** CURVE keys of a client: the server's public key and the client's own pair. */
export interface CurveClientKeys {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_INDEX = new Map([...Z85].map((c, i) => [c, i]));

/** Decodes a Z85 string (length a multiple of 5) into bytes; throws a TypeError on bad input. */
export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new TypeError(`Expected a Z85 string whose length is a multiple of 5, got ${text.length} characters`);
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const d = Z85_INDEX.get(text[i + j]!);
      if (d === undefined) throw new TypeError(`Expected a Z85 string, got the character ${JSON.stringify(text[i + j])}`);
      value = value * 85 + d;
    }
    out.writeUInt32BE(value >>> 0, o);
  }
  return out;
}

/** Checks a key is 40 Z85 characters (32 bytes). */
export function assertCurveKey(name: string, key: unknown): string {
  if (typeof key !== 'string' || key.length !== 40) {
    throw new TypeError(`Expected '${name}' to be a 40-character Z85 CURVE key (see zeromq's curveKeyPair()), got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
  }
  z85Decode(key);
  return key;
}

/** Checks a client's CURVE keys; returns them, or throws a TypeError naming the bad one. */
export function checkCurveClientKeys(keys: CurveClientKeys | undefined): CurveClientKeys | undefined {
  if (keys === undefined) return undefined;
  assertCurveKey('curve.serverKey', keys.serverKey);
  assertCurveKey('curve.publicKey', keys.publicKey);
  assertCurveKey('curve.secretKey', keys.secretKey);
  return keys;
}

/** Sets a client socket (DEALER, SUB) to connect with CURVE; must be called before it connects. */
export function applyCurveClientKeys(
  socket: { curveServerKey: string | null; curvePublicKey: string | null; curveSecretKey: string | null },
  keys: CurveClientKeys | undefined,
): void {
  if (keys === undefined) return;
  socket.curveServerKey = keys.serverKey;
  socket.curvePublicKey = keys.publicKey;
  socket.curveSecretKey = keys.secretKey;
}

/**
 * The process's ZAP handler (ZeroMQ's authentication protocol): one REP socket on
 * `inproc://zeromq.zap.01` that answers every CURVE handshake. Each server socket
 * has its own ZAP domain; a domain with a list of allowed client keys admits only
 * those, any other domain admits every client that completed the handshake.
 */
class ZapAuthority {
  readonly #allowed = new Map<string, Set<string> | undefined>();
  #socket: Reply | undefined;
  #ready: Promise<void> = Promise.resolve();
  #nextDomain = 0;

  /** Resolves once the handler is bound: a server must not take connections before. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Registers a server and returns the ZAP domain its sockets must use. */
  register(allowedClientKeys: readonly string[] | undefined): string {
    this.#start();
    const domain = `scribe-${process.pid}-${++this.#nextDomain}`;
    this.#allowed.set(domain, allowedClientKeys === undefined ? undefined : new Set(allowedClientKeys.map((k) => z85Decode(k).toString('hex'))));
    return domain;
  }

  /** Forgets a server's domain (its sockets are closed). */
  unregister(domain: string): void {
    this.#allowed.delete(domain);
  }

  #start(): void {
    if (this.#socket !== undefined) return;
    const socket = new Reply({ linger: 0 });
    this.#socket = socket;
    const bound = socket.bind('inproc://zeromq.zap.01');
    this.#ready = bound;
    void (async () => {
      try {
        // Receiving before the bind completes would fail; the loop must outlive every server.
        await bound;
        for await (const frames of socket) {
          const [version, requestId, domainFrame, , , mechanism, clientKey] = frames;
          const domain = domainFrame?.toString('utf8') ?? '';
          let ok = true;
          if (mechanism?.toString('utf8') === 'CURVE') {
            const allowed = this.#allowed.get(domain);
            ok = allowed === undefined || (clientKey !== undefined && allowed.has(clientKey.toString('hex')));
          }
          await socket.send([version ?? '1.0', requestId ?? '', ok ? '200' : '400', ok ? 'OK' : 'client key not allowed', '', '']);
        }
      } catch {
        // The socket closes with the process.
      }
    })();
  }
}

/** The one ZAP handler of this process. */
export const zapAuthority = new ZapAuthority();
