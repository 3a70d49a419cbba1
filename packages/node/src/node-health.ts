import { RPC_METHODS, WriteError, type Role } from '@scribe/protocol';
import type { PrimaryDuty } from './primary-duty.js';
import type { SecondaryDuty } from './secondary-duty.js';
import type { PrimaryLivenessView } from './primary-liveness.js';

/** What `/healthz` answers: 200 when `ok`, 503 otherwise, with the reason either way. */
export interface NodeHealth {
  ok: boolean;
  role: Role | undefined;
  reason: string;
  /** On a secondary: what the primary's heartbeat shows (unresponsive after 3 silent intervals). */
  primary?: PrimaryLivenessView;
}

/** How long writes may wait without a commit before the primary calls its queue stuck. */
export const STUCK_QUEUE_MS = 5_000;
/** How long a secondary's health check waits for the primary's ping. */
export const HEALTH_PING_TIMEOUT_MS = 1_000;

/** What the health check looks at. */
export interface HealthState {
  closing: boolean;
  duty: PrimaryDuty | SecondaryDuty | undefined;
  /** Why the node has no role now, when the leadership loop knows (a failed promotion, say). */
  problem: string | undefined;
}

/**
 * Whether a node can do its job now. Primary: the database takes the write lock and
 * the queue is moving (no writes waiting without a commit for {@link STUCK_QUEUE_MS}).
 * Secondary: the primary answers a ping within {@link HEALTH_PING_TIMEOUT_MS} and its
 * heartbeat has not gone silent (`primary` says what the heartbeat shows).
 */
export async function nodeHealth(state: HealthState): Promise<NodeHealth> {
  const { duty } = state;
  const role = duty?.role;
  if (state.closing) return { ok: false, role, reason: 'the node is closing' };
  if (duty === undefined) return { ok: false, role, reason: state.problem ?? 'no role yet' };
  if (duty.role === 'primary') return primaryHealth(duty);
  try {
    await duty.client.call(RPC_METHODS.ping, null, { timeoutMs: HEALTH_PING_TIMEOUT_MS });
    if (!duty.liveness.responsive) {
      return {
        ok: false,
        role,
        reason: `the primary ${duty.primary.instance_id} (pid ${duty.primary.pid}) is unresponsive: no heartbeat for ${duty.liveness.silentMs} ms (it answered a ping; it still holds the lock)`,
        primary: duty.liveness.view(),
      };
    }
    return { ok: true, role, reason: `secondary of ${duty.primary.instance_id} (epoch ${duty.primary.epoch}), which answers`, primary: duty.liveness.view() };
  } catch (e) {
    // When this node also failed to take over, that is the more useful half of the story.
    const also = state.problem === undefined ? '' : `; ${state.problem}`;
    return {
      ok: false,
      role,
      reason: `the primary ${duty.primary.instance_id} (pid ${duty.primary.pid}) does not answer (${e instanceof WriteError ? e.code : 'INTERNAL'})${also}`,
      primary: duty.liveness.view(),
    };
  }
}

async function primaryHealth(p: PrimaryDuty): Promise<NodeHealth> {
  const role = 'primary' as const;
  if (p.coordinator.state !== 'open') return { ok: false, role, reason: 'the primary is shutting down' };
  const fault = p.fault();
  if (fault !== undefined) {
    return { ok: false, role, reason: `${fault.code} since ${new Date(fault.since).toISOString()}: ${fault.message}` };
  }
  try {
    // Queued behind a running batch by the store, never inside its transaction.
    await p.store.probeWritable();
  } catch (e) {
    const code = e instanceof WriteError ? e.code : 'INTERNAL';
    const why = code === 'BUSY' ? 'another connection holds its write lock' : code === 'NOT_PRIMARY' ? 'the connection can only read' : 'the write probe failed';
    return { ok: false, role, reason: `the database is not writable (${code}): ${why}` };
  }
  const waiting = p.coordinator.depth;
  const since = Date.now() - p.lastCommitAt;
  if (waiting > 0 && since > STUCK_QUEUE_MS) {
    return { ok: false, role, reason: `the write queue is stuck: ${waiting} writes waiting, last commit ${since} ms ago` };
  }
  return { ok: true, role, reason: `primary of epoch ${p.epoch}, ${waiting} writes queued` };
}
