import { z } from 'zod';
import type { AnswerKind, PendingQuestion } from '../model/supervisor.ts';

function buildSchema(kind: AnswerKind): z.ZodType {
  switch (kind.kind) {
    case 'text':
      return kind.maxLength === undefined ? z.string() : z.string().max(kind.maxLength);
    case 'choice':
      return z.enum(kind.options as [string, ...string[]]);
    case 'confirm':
      return z.boolean();
    case 'number': {
      let schema = z.number();
      if (kind.integer) schema = schema.int();
      if (kind.min !== undefined) schema = schema.min(kind.min);
      if (kind.max !== undefined) schema = schema.max(kind.max);
      return schema;
    }
    case 'json':
      return z.fromJSONSchema(kind.schema as Parameters<typeof z.fromJSONSchema>[0]);
  }
}

/**
 * Schemas built already, by what they check. Building one costs more than the check itself
 * (5 % of the answer path's CPU, bench/README.md), and most questions share a few
 * kinds. Keyed by the kind's JSON, not its object, so a kind changed in place is never
 * checked by an older schema; cleared when full, since kinds are few in practice.
 */
const schemas = new Map<string, z.ZodType>();
const SCHEMAS_KEPT = 1_000;

function schemaFor(kind: AnswerKind): z.ZodType {
  const key = JSON.stringify(kind);
  let schema = schemas.get(key);
  if (!schema) {
    schema = buildSchema(kind);
    if (schemas.size >= SCHEMAS_KEPT) schemas.clear();
    schemas.set(key, schema);
  }
  return schema;
}

/** The result of checking an answer: the value to hand the machine, or zod's issues. */
export type AnswerCheck = { ok: true; value: unknown } | { ok: false; issues: z.core.$ZodIssue[] };

/**
 * Checks a value against what the question asks for: text, one of the options, yes/no,
 * a number in range, or a value matching a JSON schema.
 *
 * @example
 * validateAnswer(question, true); // { ok: true, value: true } for a `confirm` question
 */
export function validateAnswer(question: PendingQuestion, value: unknown): AnswerCheck {
  const parsed = schemaFor(question.answer).safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: parsed.error.issues };
}
