import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RETRYABLE_CODES, StewardClientError } from '../../src/client/clientError.ts';
import { StewardError } from '../../src/errors.ts';
import {
  CLIENT_ONLY_ERROR_CODES,
  ERROR_CODES,
  ERROR_REGISTRY,
  isKnownErrorCode,
} from '../../src/protocol/errorCodes.ts';
import { ErrorFrame } from '../../src/protocol/frames.ts';
import { httpStatusOf } from '../../src/server/httpErrors.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat().filter((f) => f.endsWith('.ts') || f.endsWith('.js'));
}

describe('the error registry', () => {
  it('declares every code a source file of src/ spells out, the dashboard scripts too', async () => {
    const unknown: string[] = [];
    let seen = 0;
    for (const file of await sourceFiles(SRC)) {
      const text = await readFile(file, 'utf8');
      for (const [, code] of text.matchAll(/['"`](ERR_[A-Z_]*[A-Z])['"`]/g)) {
        seen++;
        if (!isKnownErrorCode(code as string)) unknown.push(`${relative(SRC, file)}: ${code}`);
      }
    }
    expect(seen).toBeGreaterThan(100);
    expect(unknown).toEqual([]);
  });

  it('gives every code a status, a retry flag and both lines of the docs', () => {
    for (const [code, spec] of Object.entries(ERROR_REGISTRY)) {
      expect(code).toMatch(/^ERR_[A-Z]+(?:_[A-Z]+)*$/);
      expect(spec.when.length, code).toBeGreaterThan(10);
      expect(spec.whatToDo.length, code).toBeGreaterThan(5);
      // One line each: the docs table has one row per code.
      expect(`${spec.when}${spec.whatToDo}`, code).not.toMatch(/\n/);
      if (spec.source !== 'server') {
        expect({ code, httpStatus: spec.httpStatus, retryable: spec.retryable }).toEqual({
          code,
          httpStatus: null,
          retryable: false,
        });
      }
    }
  });

  it('splits the codes into the server list and the client list', () => {
    expect(ERROR_CODES).toContain('ERR_QUESTION_NOT_PENDING');
    expect(ERROR_CODES).not.toContain('ERR_TIMEOUT');
    expect(CLIENT_ONLY_ERROR_CODES).toEqual([
      'ERR_CLIENT_CLOSED',
      'ERR_TIMEOUT',
      'ERR_UNSUBSCRIBED',
      'ERR_WEBHOOK_SIGNATURE',
      'ERR_WEBHOOK_STALE',
      'ERR_WEBHOOK_INVALID',
      'ERR_NETWORK',
      'ERR_RESPONSE_INVALID',
    ]);
  });

  it('is what the server answers HTTP with: its status, or 500 for a code without one', () => {
    expect(httpStatusOf('ERR_QUESTION_NOT_PENDING')).toBe(409);
    expect(httpStatusOf('ERR_UNAUTHENTICATED')).toBe(401);
    expect(httpStatusOf('ERR_DATABASE_UNAVAILABLE')).toBe(503);
    expect(httpStatusOf('ERR_PORT_IN_USE')).toBe(500);
  });

  it('is what the client retries by itself', () => {
    expect([...RETRYABLE_CODES].sort()).toEqual(
      ERROR_CODES.filter((code) => ERROR_REGISTRY[code].retryable).sort(),
    );
    expect(RETRYABLE_CODES.has('ERR_COMMIT_IN_DOUBT')).toBe(true);
    expect(RETRYABLE_CODES.has('ERR_QUESTION_NOT_PENDING')).toBe(false);
  });

  it('is the closed set an error frame may carry', () => {
    const frame = { type: 'error', requestId: 'r1', message: 'no' };
    expect(ErrorFrame.safeParse({ ...frame, code: 'ERR_FORBIDDEN' }).success).toBe(true);
    expect(ErrorFrame.safeParse({ ...frame, code: 'ERR_NO_SUCH_CODE' }).success).toBe(false);
    // The client's own codes never come from the server.
    expect(ErrorFrame.safeParse({ ...frame, code: 'ERR_TIMEOUT' }).success).toBe(false);
  });

  it('types the codes of StewardError and StewardClientError', () => {
    // @ts-expect-error: not a code of the registry
    const unknown = new StewardError('ERR_NO_SUCH_CODE', 'refused by tsc');
    // @ts-expect-error: a client code is not the server's
    const clientCode = new StewardError('ERR_TIMEOUT', 'refused by tsc');
    // @ts-expect-error: not a code of the registry
    const unknownOfClient = new StewardClientError('ERR_NO_SUCH_CODE', 'refused by tsc');
    const server = new StewardClientError('ERR_FORBIDDEN', 'a server code');
    const own = new StewardClientError('ERR_TIMEOUT', 'a client code');
    expect([unknown, clientCode, unknownOfClient, server, own].map((e) => e.code)).toHaveLength(5);
  });
});
