import type { Registry } from 'prom-client';
import { WriteError, type MemberStatus, type NodeInfo, type StatusChange } from '@scribe/protocol';
import { mapPgError } from '@scribe/postgres';
import { NodeStatus } from './node-status.js';
import type { PeerPresence } from './peer-presence.js';
import { changeTailAsync, type AsyncStatusChangeLog } from './status-change-tail.js';

/** What a PostgreSQL peer's status view reads. */
export interface PgNodeStatusParts {
  readonly registry: Registry;
  /** The server, credentials blanked. */
  readonly server: string;
  /** The host this peer runs on, as it records itself. */
  readonly host: string;
  instanceId(): string;
  info(): NodeInfo;
  http(): string | null;
  queueDepth(): number;
  /** The peer table (undefined before start). */
  presence(): PeerPresence | undefined;
  /** The change log on the server (undefined before start). */
  changeLog(): AsyncStatusChangeLog | undefined;
}

/**
 * A PostgreSQL peer's status view: its own write path (samples, errors), the other
 * peers from the peer table and the tail of the change log on the server, as the same
 * `ClusterStatus` a SQLite primary builds (`engine` `postgres`, no failovers). When the
 * server does not answer, the view keeps the peers and changes it read last and says
 * so in `problem`: the peer's own figures (its refused writes first) are what an
 * operator needs most then.
 */
export function pgNodeStatus(parts: PgNodeStatusParts): NodeStatus {
  const last = { others: [] as MemberStatus[], tail: [] as StatusChange[], at: undefined as string | undefined };
  const failed: { others?: string; tail?: string } = {};
  const code = (e: unknown): string => (e instanceof WriteError ? e.code : mapPgError(e, null).code);
  return new NodeStatus({
    registry: parts.registry,
    engine: 'postgres',
    server: parts.server,
    host: parts.host,
    role: () => 'peer',
    epoch: () => 0,
    instanceId: () => parts.instanceId(),
    info: () => parts.info(),
    http: () => parts.http(),
    queueDepth: () => parts.queueDepth(),
    others: async () => {
      const presence = parts.presence();
      if (presence === undefined) return [];
      try {
        last.others = await presence.others();
        last.at = new Date().toISOString();
        delete failed.others;
      } catch (e) {
        failed.others = code(e);
      }
      return last.others;
    },
    changeTail: async (limit) => {
      const log = parts.changeLog();
      if (log === undefined) return [];
      try {
        last.tail = await changeTailAsync(log, limit);
        delete failed.tail;
      } catch (e) {
        failed.tail = code(e);
      }
      return last.tail;
    },
    knownPrimary: () => undefined,
    askPrimary: () => Promise.reject(new WriteError('UNREACHABLE', 'a peer of a PostgreSQL server has no primary')),
    problem: () => {
      const why = failed.others ?? failed.tail;
      if (why === undefined) return null;
      const as = last.at === undefined ? 'not read yet' : `as last read at ${last.at}`;
      return `the server ${parts.server} does not answer (${why}): this peer's own figures are live, the other peers and the change feed are ${as}`;
    },
  });
}
