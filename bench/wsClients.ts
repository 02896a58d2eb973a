// The WebSocket side of bench/websocket.ts, in its own process: CLIENTS connections, each
// with its own owner's token, answering every question it is sent for SECONDS seconds.
// Prints one result line: answers/s, answer→ack and answer→next-question latencies.
import WebSocket from 'ws';
import type { ServerFrame } from '../src/protocol/frames.ts';
import { quantile, WS_RESULT_PREFIX } from './support.ts';

const url = process.env.WS_URL as string;
const clients = Number(process.env.CLIENTS);
const seconds = Number(process.env.SECONDS);
const warmup = Number(process.env.WARMUP_SECONDS);

const ackMs: number[] = [];
const nextQuestionMs: number[] = [];
let answers = 0;
let measuring = false;
let requests = 0;

function connect(index: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${benchToken(index)}` } });
    const sentAt = new Map<string, number>();
    let lastAnswerAt = 0;
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', all: true })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      const now = performance.now();
      if (frame.type === 'subscribed') resolve(ws);
      if (frame.type === 'question.asked') {
        if (measuring && lastAnswerAt > 0) nextQuestionMs.push(now - lastAnswerAt);
        const requestId = `a${++requests}`;
        sentAt.set(requestId, now);
        lastAnswerAt = now;
        ws.send(
          JSON.stringify({
            type: 'answer',
            requestId,
            supervisorId: frame.supervisorId,
            questionId: frame.questionId,
            value: true,
          }),
        );
      }
      if (frame.type === 'answer.ack') {
        const started = sentAt.get(frame.requestId);
        sentAt.delete(frame.requestId);
        if (measuring && started !== undefined) {
          ackMs.push(now - started);
          answers++;
        }
      }
      if (frame.type === 'error') console.error(`client ${index}: ${frame.code} ${frame.message}`);
    });
  });
}

/** The token of bench client `index` (owner `o<index>`), as the server configures it. */
export function benchToken(index: number): string {
  return `bench-token-${String(index).padStart(6, '0')}`;
}

if (process.env.WS_URL) {
  const started = performance.now();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clients; i += 100) {
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, clients - i) }, (_, k) => connect(i + k)),
      )),
    );
  }
  console.error(
    `  ${clients} clients connected and subscribed in ${(performance.now() - started).toFixed(0)} ms`,
  );
  await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
  measuring = true;
  const from = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - from) / 1000;
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  const ack = sorted(ackMs);
  const next = sorted(nextQuestionMs);
  process.stdout.write(
    `${WS_RESULT_PREFIX}${JSON.stringify({
      answersPerSecond: answers / elapsed,
      ackP50: quantile(ack, 0.5),
      ackP99: quantile(ack, 0.99),
      nextQuestionP50: quantile(next, 0.5),
      nextQuestionP99: quantile(next, 0.99),
    })}\n`,
  );
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}
