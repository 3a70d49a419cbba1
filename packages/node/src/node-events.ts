import type { Role } from '@scribe/protocol';

/** What a node tells the application. */
export type NodeEvent =
  /** This node's role changed (also emitted once when it first gets one). */
  | { type: 'role:changed'; role: Role; previous: Role | undefined; epoch: number }
  /** A secondary saw a new primary (after a failover or restart) and reconnected to it. */
  | { type: 'primary:changed'; instance_id: string; epoch: number; router: string }
  /**
   * This node took the primary lock and starts its promotion to `epoch` (a
   * `role:changed` follows when it is done, a `promotion:failed` when it is not).
   * Closing the node now abandons the promotion and undoes it before close() resolves.
   */
  | { type: 'promotion:started'; epoch: number }
  /** Promotion was attempted and failed; this node stays secondary and will try again. */
  | { type: 'promotion:failed'; error: Error }
  /**
   * A secondary missed its primary's heartbeat for more than 3 intervals while the
   * primary still holds the lock (stalled, overloaded, or its PUB path broken). The
   * lock stays the authority: no promotion follows from this alone.
   */
  | { type: 'primary:unresponsive'; instance_id: string; epoch: number; last_heartbeat_at: string | null; silent_ms: number }
  /** The heartbeat of a primary reported unresponsive came back. */
  | { type: 'primary:responsive'; instance_id: string; epoch: number; silent_ms: number };

/** A listener of {@link NodeEvent}s; it must not throw (a throw is logged and ignored). */
export type NodeListener = (event: NodeEvent) => void;
