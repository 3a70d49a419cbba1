import type { Role } from '@scribe/protocol';

/** What a node tells the application. */
export type NodeEvent =
  /** This node's role changed (also emitted once when it first gets one). */
  | { type: 'role:changed'; role: Role; previous: Role | undefined; epoch: number }
  /** A secondary saw a new primary (after a failover or restart) and reconnected to it. */
  | { type: 'primary:changed'; instance_id: string; epoch: number; router: string }
  /** Promotion was attempted and failed; this node stays secondary and will try again. */
  | { type: 'promotion:failed'; error: Error };

/** A listener of {@link NodeEvent}s; it must not throw (a throw is logged and ignored). */
export type NodeListener = (event: NodeEvent) => void;
