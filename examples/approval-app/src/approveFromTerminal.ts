// Answers the expense approvals of a running `npm start` from a terminal: each question's
// prompt, then y or n. In another shell: npx tsx src/approveFromTerminal.ts
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { createStewardClient, isStewardClientError } from 'steward/client';

const APPROVAL_QUESTIONS = new Set(['manager-approval', 'finance-approval']);

// `npm start` with no tokens configured writes an admin token to .steward/dev-token.
const token = process.env.STEWARD_TOKEN ?? readFileSync('.steward/dev-token', 'utf8').trim();
const url = process.env.STEWARD_URL ?? 'http://127.0.0.1:7420';
const client = createStewardClient({ url, token, subscribe: { all: true } });
const terminal = createInterface({ input: process.stdin, output: process.stdout });
// Ctrl-C reaches readline, not the process, while a prompt is open; Ctrl-D closes it too.
terminal.once('SIGINT', () => terminal.close());
const stop = new AbortController();
terminal.once('close', () => stop.abort());
stop.signal.addEventListener('abort', () => void client.close());

await client.connect();
console.log(`connected to ${url}; waiting for expense approvals (Ctrl-C to stop)`);

for await (const question of client.questions()) {
  if (!APPROVAL_QUESTIONS.has(question.questionId)) continue;
  const reply = await terminal
    .question(`${question.prompt} [y/n] `, { signal: stop.signal })
    .catch(() => undefined);
  if (reply === undefined) break;
  const value = /^y/i.test(reply.trim());
  try {
    const ack = await client.answer(question.supervisorId, question.questionId, value);
    console.log(
      `  ${value ? 'approved' : 'rejected'}${ack.duplicate ? ' (already answered)' : ''}`,
    );
  } catch (error) {
    // Answered elsewhere meanwhile, or expired: ERR_QUESTION_NOT_PENDING.
    console.log(`  not taken: ${isStewardClientError(error) ? error.code : String(error)}`);
  }
}
