import { z } from 'zod';
import type { Session } from '../entities.js';
import { defineWrite } from '../write-registry.js';
import { count, deleteWhere, id, mustGet, newId, optionalText, toSql, updateRow } from './write-helpers.js';

const cost = z.number().min(0);

export const CreateSession = defineWrite({
  name: 'CreateSession',
  description:
    'Creates a session (optionally the child of another). `message_count` starts at 0 unless given (the reference client sends it). Returns the session.',
  schema: z.strictObject({
    id: id.optional(),
    parent_session_id: id.nullable().optional(),
    title: z.string(),
    message_count: count.optional(),
    prompt_tokens: count.optional(),
    completion_tokens: count.optional(),
    cost: cost.optional(),
    summary_message_id: optionalText,
  }),
  async handler(ctx, p): Promise<Session> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO sessions (id, parent_session_id, title, message_count, prompt_tokens, completion_tokens, cost, summary_message_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [rowId, toSql(p.parent_session_id), p.title, p.message_count ?? 0, p.prompt_tokens ?? 0, p.completion_tokens ?? 0, p.cost ?? 0, toSql(p.summary_message_id), ctx.now, ctx.now],
    );
    ctx.change('sessions', rowId, 'created');
    return mustGet<Session>(ctx, 'sessions', rowId, 'CreateSession');
  },
});

export const UpdateSession = defineWrite({
  name: 'UpdateSession',
  description: "Updates a session's title, token counts, cost or summary message. Returns the session; NOT_FOUND when absent.",
  schema: z.strictObject({
    id,
    title: z.string().optional(),
    prompt_tokens: count.optional(),
    completion_tokens: count.optional(),
    cost: cost.optional(),
    summary_message_id: optionalText,
  }),
  handler: (ctx, { id: rowId, ...fields }): Promise<Session> => updateRow<Session>(ctx, 'sessions', rowId, fields, 'UpdateSession'),
});

export const DeleteSession = defineWrite({
  name: 'DeleteSession',
  description:
    "Deletes a session with its messages, files and scores in one transaction; child sessions keep living with parent_session_id set to null. Returns the counts.",
  schema: z.strictObject({ id }),
  bareParam: 'id',
  async handler(ctx, p): Promise<{ deleted: number; messages: number; files: number; scores: number }> {
    const messages = await deleteWhere(ctx, 'messages', 'session_id', p.id);
    const files = await deleteWhere(ctx, 'files', 'session_id', p.id);
    const scores = await deleteWhere(ctx, 'session_scores', 'session_id', p.id);
    const children = await ctx.tx.all<{ id: string }>('SELECT id FROM sessions WHERE parent_session_id = ?', [p.id]);
    const deleted = await deleteWhere(ctx, 'sessions', 'id', p.id);
    for (const c of children) ctx.change('sessions', c.id, 'updated');
    return { deleted, messages, files, scores };
  },
});

export const DeleteSessionMessages = defineWrite({
  name: 'DeleteSessionMessages',
  description: "Deletes every message of a session and sets its message_count to 0. Returns {deleted}.",
  schema: z.strictObject({ session_id: id }),
  bareParam: 'session_id',
  async handler(ctx, p): Promise<{ deleted: number }> {
    const deleted = await deleteWhere(ctx, 'messages', 'session_id', p.session_id);
    const info = await ctx.tx.run('UPDATE sessions SET message_count = 0, updated_at = ? WHERE id = ?', [ctx.now, p.session_id]);
    if (info.changes > 0) ctx.change('sessions', p.session_id, 'updated');
    return { deleted };
  },
});
