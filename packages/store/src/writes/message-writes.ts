import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import type { Message } from '../entities.js';
import { defineWrite } from '../write-registry.js';
import { id, newId, optionalText, timestamp, toSql, updateRow } from './write-helpers.js';

export const CreateMessage = defineWrite({
  name: 'CreateMessage',
  description: "Adds a message to a session and increments the session's message_count in the same write. Returns the message.",
  schema: z.strictObject({
    id: id.optional(),
    session_id: id,
    role: z.string().min(1),
    parts: z.string(),
    model: optionalText,
    finished_at: timestamp.nullable().optional(),
  }),
  async handler(ctx, p): Promise<Message> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO messages (id, session_id, role, parts, model, finished_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [rowId, p.session_id, p.role, p.parts, toSql(p.model), toSql(p.finished_at), ctx.now, ctx.now],
    );
    await ctx.tx.run('UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?', [ctx.now, p.session_id]);
    ctx.change('messages', rowId, 'created');
    ctx.change('sessions', p.session_id, 'updated');
    return {
      id: rowId,
      session_id: p.session_id,
      role: p.role,
      parts: p.parts,
      model: p.model ?? null,
      finished_at: p.finished_at ?? null,
      created_at: ctx.now,
      updated_at: ctx.now,
    };
  },
});

export const UpdateMessage = defineWrite({
  name: 'UpdateMessage',
  description: "Updates a message's parts, model or finished_at. Returns the message; NOT_FOUND when absent.",
  schema: z.strictObject({
    id,
    parts: z.string().optional(),
    model: optionalText,
    finished_at: timestamp.nullable().optional(),
  }),
  handler: (ctx, { id: rowId, ...fields }): Promise<Message> => updateRow<Message>(ctx, 'messages', rowId, fields, 'UpdateMessage'),
});

export const DeleteMessage = defineWrite({
  name: 'DeleteMessage',
  description: "Deletes a message and decrements its session's message_count. Returns {deleted: 0|1}.",
  schema: z.strictObject({ id }),
  bareParam: 'id',
  async handler(ctx, p): Promise<{ deleted: number }> {
    const row = await ctx.tx.get<{ session_id: string }>('SELECT session_id FROM messages WHERE id = ?', [p.id]);
    if (row === undefined) return { deleted: 0 };
    await ctx.tx.run('DELETE FROM messages WHERE id = ?', [p.id]);
    // A CASE both engines accept, in place of SQLite's two-argument MAX (GREATEST on PostgreSQL).
    const info = await ctx.tx.run(
      'UPDATE sessions SET message_count = CASE WHEN message_count > 0 THEN message_count - 1 ELSE 0 END, updated_at = ? WHERE id = ?',
      [ctx.now, row.session_id],
    );
    if (info.changes !== 1) throw new WriteError('INTERNAL', 'DeleteMessage: the session of the message is missing', { method: 'DeleteMessage' });
    ctx.change('messages', p.id, 'deleted');
    ctx.change('sessions', row.session_id, 'updated');
    return { deleted: 1 };
  },
});

