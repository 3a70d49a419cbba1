// An application plugin: its own table (in a migration of its own namespace), one
// typed write defined with the registry's API, and a read. Load it into the daemon
// with `scribe start --plugin ./examples/notes-app/notes-plugin.mjs`, and give the same
// plugin to openNode({ plugins }) in every process of the application.
import { z } from 'zod';
import { definePlugin, defineWrite } from '@scribe/store';

/** AddNote: inserts a note; returns the row. A second note with the same id is CONFLICT. */
export const AddNote = defineWrite({
  name: 'AddNote',
  description: 'Adds a note. Returns it.',
  schema: z.strictObject({ id: z.string().min(1).max(200), title: z.string().min(1), body: z.string() }),
  async handler(ctx, p) {
    await ctx.tx.run('INSERT INTO notes (id, title, body, created_at) VALUES (?, ?, ?, ?)', [p.id, p.title, p.body, ctx.now]);
    ctx.change('notes', p.id, 'created');
    return { id: p.id, title: p.title, body: p.body, created_at: ctx.now };
  },
});

/** The notes application's plugin. */
export const plugin = definePlugin({
  name: 'notes-app',
  migrations: [
    {
      version: 1,
      name: 'notes, and a shadow table for agent sessions',
      up: `
CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE notes_shadow (session_id TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
                           created_at TEXT NOT NULL, PRIMARY KEY (session_id, id));`,
    },
  ],
  register: (registry) => registry.register(AddNote),
});

export default plugin;

/**
 * The typed call of AddNote through any process's querier.
 * @param {import('@scribe/store').Querier} querier
 * @param {{ id: string, title: string, body: string }} note
 * @returns {Promise<{ id: string, title: string, body: string, created_at: string }>}
 */
export function addNote(querier, note) {
  return querier.write('AddNote', note);
}

/**
 * Every note, oldest first: a local read (no round trip to the primary).
 * @param {import('@scribe/store').Querier} querier
 * @returns {Promise<Array<{ id: string, title: string, body: string, created_at: string }>>}
 */
export function listNotes(querier) {
  return querier.query('SELECT id, title, body, created_at FROM notes ORDER BY created_at, id');
}
