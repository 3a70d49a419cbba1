/**
 * PUB topics. A PUB message has two frames: the topic (UTF-8) and one JSON payload.
 * Subscribers filter by prefix: `db.` for every change, `db.messages.` for one
 * entity, `sys.` for cluster notices.
 */

/** The operations a change event reports. */
export const CHANGE_OPS = ['created', 'updated', 'deleted'] as const;
/** One of {@link CHANGE_OPS}. */
export type ChangeOp = (typeof CHANGE_OPS)[number];

/** Published by the primary every heartbeat interval; payload {@link HeartbeatPayload}. */
export const HEARTBEAT_TOPIC = 'sys.heartbeat';
/** Published by a primary that is shutting down; payload {@link ShutdownPayload}. */
export const SHUTDOWN_TOPIC = 'sys.shutdown';

/** `db.<entity>.<op>`, e.g. `db.messages.created`. */
export function changeTopic(entity: string, op: ChangeOp): string {
  return `db.${entity}.${op}`;
}

/** One change made by a committed write; payload of a `db.<entity>.<op>` topic. */
export interface ChangeEvent {
  /** The table or collection, e.g. `messages`. */
  entity: string;
  /** The primary key of the changed row. */
  key: string;
  op: ChangeOp;
  /** The request id of the write that made the change. */
  request_id: string;
  /** The instance that issued the write. */
  source_instance_id: string;
  /** Commit time, RFC 3339. */
  at: string;
}

/** Payload of {@link HEARTBEAT_TOPIC}. */
export interface HeartbeatPayload {
  instance_id: string;
  epoch: number;
  pid: number;
  queue_depth: number;
  at: string;
}

/** Payload of {@link SHUTDOWN_TOPIC}. */
export interface ShutdownPayload {
  instance_id: string;
  epoch: number;
  reason: string;
  at: string;
}
