import { readdirSync, statSync } from 'node:fs';

/**
 * The ids of this user's other processes that have one of `paths` open, found through
 * `/proc/<pid>/fd` (Linux). Files are matched by device and inode, so another spelling
 * of the path (a symlink, `..`) is still found. Where `/proc` is missing (macOS) the
 * answer is `undefined`: unknown, not "none".
 */
export function processesUsingFile(paths: readonly string[]): number[] | undefined {
  const wanted = new Set<string>();
  for (const p of paths) {
    try {
      const st = statSync(p);
      wanted.add(`${st.dev}:${st.ino}`);
    } catch {
      // absent: nobody can have it open
    }
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const found: number[] = [];
  if (wanted.size === 0) return found;
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      try {
        // stat follows the fd's magic link to the open file itself, even when it was renamed or unlinked.
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (wanted.has(`${st.dev}:${st.ino}`)) {
          found.push(Number(pid));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return found;
}
