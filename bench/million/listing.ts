// bench/million.ts's check that every pending question is listable: GET /questions paged
// through to the end, counted by question and checked for order.
import { fmt } from '../support.ts';

/** Page size of GET /questions (its maximum). */
export const QUESTION_PAGE = 1_000;

export interface Listing {
  questions: number;
  byQuestion: Map<string, number>;
  pages: number;
  seconds: number;
  /** Supervisor ids strictly ascending across all pages (no entry seen twice). */
  ordered: boolean;
}

export async function listQuestions(url: string, token: string): Promise<Listing> {
  const started = performance.now();
  const byQuestion = new Map<string, number>();
  let questions = 0;
  let pages = 0;
  let afterId: string | null = null;
  let last = '';
  let ordered = true;
  for (;;) {
    const query = `limit=${QUESTION_PAGE}${afterId ? `&afterId=${afterId}` : ''}`;
    const response = await fetch(`${url}/questions?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok)
      throw new Error(`GET /questions: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as {
      questions: { supervisorId: string; question: { id: string } }[];
      nextAfterId: string | null;
    };
    pages++;
    for (const entry of page.questions) {
      questions++;
      byQuestion.set(entry.question.id, (byQuestion.get(entry.question.id) ?? 0) + 1);
      if (entry.supervisorId < last) ordered = false;
      last = entry.supervisorId;
    }
    if (pages % 100 === 0) console.log(`  list: ${fmt(pages)} pages, ${fmt(questions)} questions`);
    if (page.nextAfterId === null) break;
    if (afterId !== null && page.nextAfterId <= afterId) ordered = false;
    afterId = page.nextAfterId;
  }
  return { questions, byQuestion, pages, seconds: (performance.now() - started) / 1000, ordered };
}
