import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** A file that `--force` was not given to replace. */
export class FileExistsError extends Error {
  override readonly name = 'FileExistsError';
}

/**
 * Writes `content` to a new file readable by its owner only (0600, whatever the umask),
 * flushed to disk. Without `force` an existing path (file or symlink) is refused with
 * {@link FileExistsError}; with it, the content goes to a temporary file beside `path`
 * first and is renamed over it, so the old file is replaced whole and a symlink at
 * `path` is replaced, never followed.
 */
export function writePrivateFile(path: string, content: string, options: { force?: boolean } = {}): void {
  const target = options.force === true ? `${path}.${process.pid}.tmp` : path;
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && options.force !== true) {
      throw new FileExistsError(`${path} exists; give --force to replace it`, { cause: e });
    }
    throw e;
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(target, { force: true });
    throw e;
  }
  closeSync(fd);
  if (target !== path) renameSync(target, path);
}
