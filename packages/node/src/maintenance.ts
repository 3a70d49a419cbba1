import type { Logger } from 'pino';
import type { Querier } from '@scribe/store';
import type { MaintenanceTask } from './node-options.js';

/**
 * Runs each task every `intervalMs` (counted from the end of its previous run) until
 * the returned function is called. A throw is logged and the next run happens as
 * planned. Timers are unref'd: maintenance never keeps a process alive.
 */
export function startMaintenance(tasks: readonly MaintenanceTask[], querier: () => Querier | undefined, log: Logger): () => void {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (const task of tasks) {
    const schedule = (): void => {
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void (async () => {
          try {
            const q = querier();
            if (q !== undefined) await task.run(q);
          } catch (e) {
            log.warn({ err: e, task: task.name }, 'maintenance task failed');
          }
          schedule();
        })();
      }, task.intervalMs);
      timer.unref();
      timers.add(timer);
    };
    schedule();
  }
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
}
