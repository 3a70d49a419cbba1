/**
 * Small filesystems for disk-full tests: a tmpfs of a given size mounted on a
 * directory. Mounting needs root (and a kernel that lets this process mount); a test
 * that needs one runs only where {@link canMountTmpfs} is true.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function succeeds(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when this process can mount (and unmount) a tmpfs: probed once, on a throwaway directory. */
export const canMountTmpfs: boolean = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'scribe-tmpfs-probe-'));
  try {
    return succeeds('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]) && succeeds('umount', [probe]);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** Mounts a tmpfs of `size` (`2m`, `64m`) on `dir`; returns the unmount. */
export function mountTmpfs(dir: string, size: string): () => void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return () => execFileSync('umount', ['-l', dir]);
}

/** Changes the size of the tmpfs mounted on `dir` (space comes back, or runs out). */
export function resizeTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir]);
}
