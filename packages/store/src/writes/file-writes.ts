import { z } from 'zod';
import type { DeleteResult, FileRecord } from '../entities.js';
import { defineWrite } from '../write-registry.js';
import { forUpdate } from '../sql-tx.js';
import { deleteWhere, id, mustGet, newId, updateRow } from './write-helpers.js';

/**
 * A file version: an integer ≥ 0, or the reference client's version labels, which
 * it sends as strings: `"initial"` is 0, `"v<N>"` is N, and a decimal string is its number.
 */
const VERSION_EXPECTED = 'an integer of 0 or more, or "initial", "v<N>" or "<N>"';
const VERSION_LABEL = /^(initial|v?\d{1,15})$/;
const version = z
  .union([z.number().int().min(0), z.string().refine((v) => VERSION_LABEL.test(v), { message: VERSION_EXPECTED })], {
    error: VERSION_EXPECTED,
  })
  .transform((v) => (typeof v === 'number' ? v : v === 'initial' ? 0 : Number(v.replace(/^v/, ''))));

export const CreateFile = defineWrite({
  name: 'CreateFile',
  description:
    'Records a version of a file of a session. Without `version` it takes the next one for that session and path (1 for a new path). Returns the file; CONFLICT when that version exists.',
  schema: z.strictObject({
    id: id.optional(),
    session_id: id,
    path: z.string().min(1),
    content: z.string(),
    version: version.optional(),
  }),
  async handler(ctx, p): Promise<FileRecord> {
    const rowId = newId(p.id);
    // On PostgreSQL the session's row is locked to this write first (see forUpdate): the next version
    // of a path is counted by one writer at a time, in every process. SQLite has one writer already.
    if (p.version === undefined && ctx.tx.dialect === 'postgres') await ctx.tx.get(`SELECT id FROM sessions WHERE id = ?${forUpdate(ctx.tx)}`, [p.session_id]);
    const version =
      p.version ??
      (await ctx.tx.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM files WHERE session_id = ? AND path = ?', [p.session_id, p.path]))!.v;
    await ctx.tx.run('INSERT INTO files (id, session_id, path, content, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      rowId,
      p.session_id,
      p.path,
      p.content,
      version,
      ctx.now,
      ctx.now,
    ]);
    ctx.change('files', rowId, 'created');
    return mustGet<FileRecord>(ctx, 'files', rowId, 'CreateFile');
  },
});

export const UpdateFile = defineWrite({
  name: 'UpdateFile',
  description:
    'Replaces the content of one file version in place and, with `version`, renumbers it (as the reference allows). Returns the file; NOT_FOUND when absent, CONFLICT when that (session, path, version) exists.',
  schema: z.strictObject({ id, content: z.string(), version: version.optional() }),
  handler: (ctx, p): Promise<FileRecord> =>
    updateRow<FileRecord>(ctx, 'files', p.id, { content: p.content, version: p.version }, 'UpdateFile'),
});

export const DeleteFile = defineWrite({
  name: 'DeleteFile',
  description: 'Deletes one file version. Returns {deleted: 0|1}.',
  schema: z.strictObject({ id }),
  bareParam: 'id',
  handler: async (ctx, p): Promise<DeleteResult> => ({ deleted: await deleteWhere(ctx, 'files', 'id', p.id) }),
});

export const DeleteSessionFiles = defineWrite({
  name: 'DeleteSessionFiles',
  description: 'Deletes every file version of a session. Returns {deleted}.',
  schema: z.strictObject({ session_id: id }),
  bareParam: 'session_id',
  handler: async (ctx, p): Promise<DeleteResult> => ({ deleted: await deleteWhere(ctx, 'files', 'session_id', p.session_id) }),
});
