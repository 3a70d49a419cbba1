import { z } from 'zod';
import type { PromptTemplate, SessionScore, Skill } from '../entities.js';
import { defineWrite } from '../write-registry.js';
import { count, flag, id, mustGet, newId, optionalText, timestamp, toSql } from './write-helpers.js';

const rate = z.number().min(0).max(1);
const score = z.number().nullable().optional();

export const InsertPromptTemplate = defineWrite({
  name: 'InsertPromptTemplate',
  description: 'Adds a prompt template to a section. Returns the template.',
  schema: z.strictObject({
    id: id.optional(),
    name: z.string().min(1),
    section: z.string().min(1),
    content: z.string(),
    version: z.number().int().min(1).optional(),
    is_active: flag.optional(),
    is_default: flag.optional(),
  }),
  async handler(ctx, p): Promise<PromptTemplate> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO prompt_templates (id, name, section, content, version, is_active, is_default, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [rowId, p.name, p.section, p.content, p.version ?? 1, toSql(p.is_active ?? true), toSql(p.is_default ?? false), ctx.now, ctx.now],
    );
    ctx.change('prompt_templates', rowId, 'created');
    return mustGet<PromptTemplate>(ctx, 'prompt_templates', rowId, 'InsertPromptTemplate');
  },
});

export const InsertSessionScore = defineWrite({
  name: 'InsertSessionScore',
  description: "Records a judge's evaluation of a session. Returns the score; CONFLICT when the session does not exist.",
  schema: z.strictObject({
    id: id.optional(),
    session_id: id,
    template_id: id.nullable().optional(),
    reward: score,
    success_score: score,
    efficiency_score: score,
    judge_analysis: optionalText,
    judge_model: optionalText,
    prompt_tokens: count.optional(),
    completion_tokens: count.optional(),
    message_count: count.optional(),
    user_corrections: count.optional(),
    evaluated_at: timestamp.nullable().optional(),
  }),
  async handler(ctx, p): Promise<SessionScore> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO session_scores (id, session_id, template_id, reward, success_score, efficiency_score, judge_analysis, judge_model,
         prompt_tokens, completion_tokens, message_count, user_corrections, evaluated_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        rowId,
        p.session_id,
        toSql(p.template_id),
        toSql(p.reward),
        toSql(p.success_score),
        toSql(p.efficiency_score),
        toSql(p.judge_analysis),
        toSql(p.judge_model),
        p.prompt_tokens ?? 0,
        p.completion_tokens ?? 0,
        p.message_count ?? 0,
        p.user_corrections ?? 0,
        toSql(p.evaluated_at ?? ctx.now),
        ctx.now,
      ],
    );
    ctx.change('session_scores', rowId, 'created');
    return mustGet<SessionScore>(ctx, 'session_scores', rowId, 'InsertSessionScore');
  },
});

export const InsertSkill = defineWrite({
  name: 'InsertSkill',
  description: 'Adds a skill to the library (active unless told otherwise). Returns the skill.',
  schema: z.strictObject({
    id: id.optional(),
    title: z.string().min(1),
    content: z.string(),
    source_session_id: id.nullable().optional(),
    source_template_id: id.nullable().optional(),
    task_type: optionalText,
    usage_count: count.optional(),
    success_rate: rate.optional(),
    is_active: flag.optional(),
  }),
  async handler(ctx, p): Promise<Skill> {
    const rowId = newId(p.id);
    await ctx.tx.run(
      `INSERT INTO skill_library (id, title, content, source_session_id, source_template_id, task_type, usage_count, success_rate, is_active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        rowId,
        p.title,
        p.content,
        toSql(p.source_session_id),
        toSql(p.source_template_id),
        toSql(p.task_type),
        p.usage_count ?? 0,
        p.success_rate ?? 0,
        toSql(p.is_active ?? true),
        ctx.now,
        ctx.now,
      ],
    );
    ctx.change('skill_library', rowId, 'created');
    return mustGet<Skill>(ctx, 'skill_library', rowId, 'InsertSkill');
  },
});

export const IncrementSkillUsage = defineWrite({
  name: 'IncrementSkillUsage',
  description:
    'Counts one use of a skill. With `success`, folds the outcome into success_rate as a running mean: (rate × usage_count + outcome) / (usage_count + 1). Returns the skill; NOT_FOUND when absent.',
  schema: z.strictObject({ id, success: z.boolean().optional() }),
  bareParam: 'id',
  async handler(ctx, p): Promise<Skill> {
    // One statement reads and writes the row (SET sees the old values on both engines), so
    // concurrent increments from several processes each count, and the running mean stays exact.
    const done =
      p.success === undefined
        ? await ctx.tx.run('UPDATE skill_library SET usage_count = usage_count + 1, updated_at = ? WHERE id = ?', [ctx.now, p.id])
        : await ctx.tx.run(
            'UPDATE skill_library SET success_rate = (success_rate * usage_count + ?) / (usage_count + 1), usage_count = usage_count + 1, updated_at = ? WHERE id = ?',
            [p.success ? 1 : 0, ctx.now, p.id],
          );
    if (done.changes === 0) await mustGet<Skill>(ctx, 'skill_library', p.id, 'IncrementSkillUsage'); // NOT_FOUND
    ctx.change('skill_library', p.id, 'updated');
    return mustGet<Skill>(ctx, 'skill_library', p.id, 'IncrementSkillUsage');
  },
});

export const DeactivateLowestSkill = defineWrite({
  name: 'DeactivateLowestSkill',
  description:
    'Deactivates the active skill with the lowest success_rate; ties go to the lowest usage_count, then the oldest created_at, then the smallest id. Returns that skill, or null when no skill is active.',
  schema: z.strictObject({}).nullable().optional(),
  async handler(ctx): Promise<Skill | null> {
    // The UPDATE re-checks is_active: when a writer in another process deactivated the same
    // skill first (PostgreSQL runs them at once), it changes nothing and the next lowest is
    // taken, so two deactivations never answer with the same skill. Each round sees one more
    // skill inactive, so this ends; on SQLite (one writer) the first round always changes it.
    for (;;) {
      const row = await ctx.tx.get<{ id: string }>(
        `SELECT id FROM skill_library WHERE is_active = 1
         ORDER BY success_rate ASC, usage_count ASC, created_at ASC, id ASC LIMIT 1`,
      );
      if (row === undefined) return null;
      const done = await ctx.tx.run('UPDATE skill_library SET is_active = 0, updated_at = ? WHERE id = ? AND is_active = 1', [ctx.now, row.id]);
      if (done.changes === 0) continue;
      ctx.change('skill_library', row.id, 'updated');
      return mustGet<Skill>(ctx, 'skill_library', row.id, 'DeactivateLowestSkill');
    }
  },
});
