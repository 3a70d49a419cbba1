import { z } from 'zod';
import type { DeleteResult, Project } from '../entities.js';
import { defineWrite } from '../write-registry.js';
import { deleteWhere, flag, id, mustGet, name, newId, timestamp, toSql, updateRow } from './write-helpers.js';

const port = z.number().int().min(0).max(65535).nullable().optional();
const pid = z.number().int().min(0).nullable().optional();

export const CreateProject = defineWrite({
  name: 'CreateProject',
  description: 'Creates a project; `path` is unique. Returns the project.',
  schema: z.strictObject({
    id: id.optional(),
    name,
    path: name,
    status: z.string().min(1).optional(),
    initialized: flag.optional(),
    acp_pid: pid,
    acp_port: port,
    last_opened: timestamp.nullable().optional(),
  }),
  async handler(ctx, p): Promise<Project> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO projects (id, name, path, status, initialized, acp_pid, acp_port, last_opened, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [rowId, p.name, p.path, p.status ?? 'active', toSql(p.initialized ?? false), toSql(p.acp_pid), toSql(p.acp_port), toSql(p.last_opened), ctx.now, ctx.now],
    );
    ctx.change('projects', rowId, 'created');
    return mustGet<Project>(ctx, 'projects', rowId, 'CreateProject');
  },
});

export const UpdateProjectStatus = defineWrite({
  name: 'UpdateProjectStatus',
  description:
    "Sets a project's status and, when given, its ACP pid and port (null clears them; absent leaves them). Returns the project; NOT_FOUND when absent.",
  schema: z.strictObject({ id, status: z.string().min(1), acp_pid: pid, acp_port: port }),
  handler: (ctx, p): Promise<Project> =>
    updateRow<Project>(ctx, 'projects', p.id, { status: p.status, acp_pid: p.acp_pid, acp_port: p.acp_port }, 'UpdateProjectStatus'),
});

export const UpdateProjectLastOpened = defineWrite({
  name: 'UpdateProjectLastOpened',
  description: "Sets a project's last_opened (absent: the write's time; null: never opened). Returns the project; NOT_FOUND when absent.",
  schema: z.strictObject({ id, last_opened: timestamp.nullable().optional() }),
  handler: (ctx, p): Promise<Project> =>
    updateRow<Project>(
      ctx,
      'projects',
      p.id,
      // updateRow skips undefined fields, so an explicit null is bound as a value.
      { last_opened: p.last_opened === undefined ? ctx.now : p.last_opened },
      'UpdateProjectLastOpened',
    ),
});

export const MarkProjectInitialized = defineWrite({
  name: 'MarkProjectInitialized',
  description: 'Marks a project initialized, optionally recording its ACP pid and port. Returns the project.',
  schema: z.strictObject({ id, acp_pid: pid, acp_port: port }),
  bareParam: 'id',
  handler: (ctx, p): Promise<Project> =>
    updateRow<Project>(
      ctx,
      'projects',
      p.id,
      { initialized: true, acp_pid: p.acp_pid, acp_port: p.acp_port },
      'MarkProjectInitialized',
    ),
});

export const DeleteProject = defineWrite({
  name: 'DeleteProject',
  description: 'Deletes a project. Returns {deleted: 0|1}; a missing id is not an error.',
  schema: z.strictObject({ id }),
  bareParam: 'id',
  handler: async (ctx, p): Promise<DeleteResult> => ({ deleted: await deleteWhere(ctx, 'projects', 'id', p.id) }),
});
