// Receives Steward's webhook notifications and prints them: a starting point for a chat
// bot or a pager. Run it, then start the runtime with
//   STEWARD_WEBHOOK_URL=http://127.0.0.1:7421/ STEWARD_WEBHOOK_SECRET=<the same secret> npm start
import { createServer } from 'node:http';
import { isStewardClientError, verifyWebhook } from '../src/client/index.ts';

const secret = process.env.STEWARD_WEBHOOK_SECRET;
if (!secret) {
  console.error('Set STEWARD_WEBHOOK_SECRET to the secret the runtime signs with.');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 7421);
// Delivery is at least once: remember what was handled (a real receiver keeps this durably).
const handled = new Set<string>();

createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => {
    body += chunk;
  });
  request.on('end', () => {
    try {
      const notification = verifyWebhook({ secret, headers: request.headers, body });
      if (!handled.has(notification.deliveryId)) {
        handled.add(notification.deliveryId);
        console.log(
          notification.type === 'question.asked'
            ? `${notification.owner ?? '-'} is asked: ${notification.question.prompt} (supervisor ${notification.supervisorId})`
            : `question ${notification.questionId} of ${notification.supervisorId}: ${notification.resolution}`,
        );
      }
      response.writeHead(204).end();
    } catch (error) {
      // Refused requests are not retried usefully: say why, with a client error status.
      const code = isStewardClientError(error) ? error.code : 'ERR_INTERNAL';
      response.writeHead(code === 'ERR_INTERNAL' ? 500 : 400).end(code);
    }
  });
}).listen(port, '127.0.0.1', () => console.log(`webhook receiver on http://127.0.0.1:${port}/`));
