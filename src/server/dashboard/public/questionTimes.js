// A question's times in words relative to now ("asked 3 min ago", "expires in 4 min"), for
// the Questions page, which rewrites them as time passes. No DOM: tested in Node.

import { formatAgo } from './dom.js';

/** How long until a time, in words as short as `formatAgo`'s: `in 4 min`. */
export function formatIn(value, now = Date.now()) {
  const seconds = Math.floor((new Date(value).getTime() - now) / 1000);
  if (!Number.isFinite(seconds)) return String(value);
  if (seconds < 60) return `in ${Math.max(0, seconds)} s`;
  if (seconds < 3600) return `in ${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `in ${Math.floor(seconds / 3600)} h`;
  return `in ${Math.floor(seconds / 86400)} d`;
}

/** `asked 3 min ago`. */
export const askedWords = (question, now = Date.now()) =>
  `asked ${formatAgo(question.askedAt, now)}`;

const passed = (value, now) => value && Date.parse(value) <= now;

/**
 * What is coming or came of the question's deadline, reminder and escalation, each as
 * `{ kind, text, due }` (`due`: it has come). A question holds them as its row stores them
 * (`remindAt`, `escalation.at`) or as a frame says (`reminded`, `escalated`): both count.
 */
export function followUps(question, now = Date.now()) {
  const words = [];
  if (question.deadline) {
    const due = passed(question.deadline, now);
    words.push({
      kind: 'deadline',
      due,
      text: due
        ? `expired ${formatAgo(question.deadline, now)}`
        : `expires ${formatIn(question.deadline, now)}`,
    });
  }
  if (question.reminded || question.remindAt) {
    const due = question.reminded === true || passed(question.remindAt, now);
    words.push({
      kind: 'reminder',
      due,
      text: due ? 'reminder sent' : `reminder ${formatIn(question.remindAt, now)}`,
    });
  }
  const escalateAt = question.escalation?.at;
  if (question.escalated || escalateAt) {
    const due = question.escalated === true || passed(escalateAt, now);
    words.push({
      kind: 'escalation',
      due,
      text: due ? 'escalated' : `escalates ${formatIn(escalateAt, now)}`,
    });
  }
  return words;
}
