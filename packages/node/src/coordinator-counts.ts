import type { CoordinatorMetrics } from '@scribe/coordinator';
import type { NodeInfo } from '@scribe/protocol';

/**
 * The coordinator's part of `NodeInfo` (queue depth and write counts), all zero when
 * this node runs no coordinator (a secondary). One definition for both engines' nodes.
 */
export function coordinatorCounts(metrics: CoordinatorMetrics | undefined): Pick<NodeInfo, 'queue_depth' | 'writes'> {
  return {
    queue_depth: metrics?.queueDepth ?? 0,
    writes: {
      accepted: metrics?.accepted ?? 0,
      completed: metrics?.completed ?? 0,
      failed: metrics?.failed ?? 0,
      rejected: metrics?.rejected ?? 0,
    },
  };
}
