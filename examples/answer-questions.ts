// Answers what the supervisors of a running Steward ask: confirm questions with yes, choice
// questions with their first option. Start the server (`npm start`), then in another shell:
//   npx tsx examples/answer-questions.ts
import { readFileSync } from 'node:fs';
import { createStewardClient, isStewardClientError } from '../src/client/index.ts';

// `npm start` without configured tokens writes a development token to .steward/dev-token.
const token = process.env.STEWARD_TOKEN ?? readFileSync('.steward/dev-token', 'utf8').trim();
const url = process.env.STEWARD_URL ?? 'http://127.0.0.1:7420';
const client = createStewardClient({ url, token, subscribe: { all: true } });
process.once('SIGINT', () => void client.close());
await client.connect();
console.log(`connected to ${url}; waiting for questions (Ctrl-C to stop)`);

for await (const question of client.questions()) {
  const { supervisorId, questionId, prompt, answer } = question;
  console.log(`${supervisorId} asks ${questionId}: ${prompt}`);
  const value =
    answer.kind === 'confirm' ? true : answer.kind === 'choice' ? answer.options[0] : undefined;
  if (value === undefined) {
    console.log(`  a ${answer.kind} question: left for a person`);
    continue;
  }
  try {
    const ack = await client.answer(supervisorId, questionId, value);
    const already = ack.duplicate ? ' (it was already answered)' : '';
    console.log(`  answered ${JSON.stringify(value)}, committed as v${ack.version}${already}`);
  } catch (error) {
    console.log(`  not answered: ${isStewardClientError(error) ? error.code : String(error)}`);
  }
}
