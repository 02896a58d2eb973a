// bench/million.ts's first touches: an answer each over HTTP, timed, counted as acked only
// when committed and applied.
import { fmt, quantile, runPool } from '../support.ts';

/** Answers in flight in the second pass of first touches. */
export const CONCURRENT_TOUCHES = 16;

export interface Touch {
  id: string;
  question: string;
}

export interface TouchResult {
  latencies: Float64Array;
  acked: number;
  errors: number;
  seconds: number;
}

export async function touchAll(
  url: string,
  token: string,
  touches: readonly Touch[],
  concurrency: number,
  label: string,
): Promise<TouchResult> {
  const latencies: number[] = [];
  let acked = 0;
  let errors = 0;
  const started = performance.now();
  await runPool(
    touches.length,
    concurrency,
    async (i) => {
      const { id, question } = touches[i] as Touch;
      const t0 = performance.now();
      try {
        const response = await fetch(
          `${url}/supervisors/${id}/questions/${encodeURIComponent(question)}/answer`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ value: true }),
          },
        );
        const body = (await response.json()) as { version?: unknown; duplicate?: unknown };
        latencies.push(performance.now() - t0);
        // Acked: committed (a version) and applied, not a duplicate of an earlier answer.
        if (response.ok && typeof body.version === 'number' && body.duplicate === false) acked++;
        else if (++errors <= 5) {
          console.error(`  ${label}: ${id} answered ${response.status} ${JSON.stringify(body)}`);
        }
      } catch (error) {
        if (++errors <= 5) console.error(`  ${label}: ${id} failed: ${(error as Error).message}`);
      }
    },
    (done) => {
      if (done % Math.max(1, Math.floor(touches.length / 4)) === 0) {
        console.log(`  ${label}: ${fmt(done)} / ${fmt(touches.length)} answered`);
      }
    },
  );
  return {
    latencies: Float64Array.from(latencies).sort(),
    acked,
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

export function describeTouches(result: TouchResult): string {
  const s = result.latencies;
  return `p50 ${fmt(quantile(s, 0.5), 2)}  p99 ${fmt(quantile(s, 0.99), 2)}  max ${fmt(s.at(-1) ?? Number.NaN, 2)} ms; ${fmt(result.acked)} acked, ${result.errors} errors, ${fmt(result.seconds, 1)} s`;
}
