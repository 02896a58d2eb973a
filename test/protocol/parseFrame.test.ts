import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClientFrame, PROTOCOL_VERSION } from '../../src/protocol/frames.ts';
import { parseClientFrame } from '../../src/protocol/parseFrame.ts';

const valid = [
  { type: 'hello', requestId: 'r1', token: 'secret-token', protocol: PROTOCOL_VERSION },
  { type: 'subscribe', requestId: 'r2', all: true },
  { type: 'subscribe', requestId: 'r3', supervisorIds: [randomUUID()] },
  {
    type: 'answer',
    requestId: 'r4',
    supervisorId: randomUUID(),
    questionId: 'approve-plan',
    value: true,
  },
  { type: 'ping', requestId: 'r5' },
];

describe('parseClientFrame', () => {
  it('accepts every kind of client frame', () => {
    for (const frame of valid) {
      expect(parseClientFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
    }
  });

  it('refuses an oversized frame unread', () => {
    const big = JSON.stringify({ type: 'ping', requestId: 'x', pad: 'a'.repeat(2_000) });
    expect(parseClientFrame(big, 1_024)).toMatchObject({
      ok: false,
      error: { type: 'error', code: 'ERR_MESSAGE_TOO_LARGE', requestId: null },
    });
  });

  it('names malformed JSON, an unknown type and a wrong shape, echoing the request id', () => {
    expect(parseClientFrame('{"type": "ping",')).toMatchObject({
      ok: false,
      error: { code: 'ERR_MESSAGE_INVALID', requestId: null },
    });
    expect(parseClientFrame(JSON.stringify({ type: 'launch', requestId: 'q1' }))).toMatchObject({
      ok: false,
      error: { code: 'ERR_MESSAGE_UNKNOWN_TYPE', requestId: 'q1' },
    });
    const wrong = parseClientFrame(
      JSON.stringify({ type: 'answer', requestId: 'q2', supervisorId: 'nope', questionId: 'a' }),
    );
    expect(wrong).toMatchObject({
      ok: false,
      error: { code: 'ERR_MESSAGE_INVALID', requestId: 'q2' },
    });
    if (!wrong.ok) expect(wrong.error.issues?.map((i) => i.path[0])).toContain('supervisorId');
    expect(
      parseClientFrame(JSON.stringify({ type: 'ping', requestId: 'q3', extra: 1 })),
    ).toMatchObject({ ok: false, error: { code: 'ERR_MESSAGE_INVALID' } });
  });

  it('refuses a JSON value that is not an object, or has no string type, as ERR_MESSAGE_INVALID', () => {
    // ERR_MESSAGE_UNKNOWN_TYPE is kept for a string type the protocol does not know.
    for (const [text, what] of [
      ['[{"type":"ping","requestId":"a"}]', 'an array'],
      ['42', 'a number'],
      ['"ping"', 'a string'],
      ['null', 'null'],
      ['true', 'a boolean'],
    ] as const) {
      const parsed = parseClientFrame(text);
      expect(parsed, text).toEqual({
        ok: false,
        error: {
          type: 'error',
          requestId: null,
          code: 'ERR_MESSAGE_INVALID',
          message: `a frame is a JSON object with a string \`type\`; this one is ${what}`,
        },
      });
    }
    expect(parseClientFrame('{"requestId":"r9"}')).toMatchObject({
      ok: false,
      error: {
        code: 'ERR_MESSAGE_INVALID',
        requestId: 'r9',
        message: expect.stringMatching(/has none$/),
      },
    });
    expect(parseClientFrame('{"type":7,"requestId":"r8"}')).toMatchObject({
      ok: false,
      error: {
        code: 'ERR_MESSAGE_INVALID',
        requestId: 'r8',
        message: expect.stringMatching(/has a number$/),
      },
    });
  });

  it('reads a binary frame as UTF-8 JSON and refuses bytes that are not UTF-8', () => {
    expect(parseClientFrame(Buffer.from('{"type":"ping","requestId":"é"}', 'utf8'))).toEqual({
      ok: true,
      frame: { type: 'ping', requestId: 'é' },
    });
    // A lone 0xff inside a string would otherwise become U+FFFD and pass as a request id.
    const notUtf8 = Buffer.concat([
      Buffer.from('{"type":"ping","requestId":"'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expect(parseClientFrame(notUtf8)).toMatchObject({
      ok: false,
      error: { code: 'ERR_MESSAGE_INVALID', requestId: null },
    });
  });

  it('never throws on thousands of hostile frames, and lets through only valid ones', () => {
    const codes = new Set([
      'ERR_MESSAGE_TOO_LARGE',
      'ERR_MESSAGE_INVALID',
      'ERR_MESSAGE_UNKNOWN_TYPE',
    ]);
    const hostile = (i: number): string | Buffer => {
      const base = valid[i % valid.length] as Record<string, unknown>;
      switch (i % 8) {
        case 0:
          return randomBytes(i % 300);
        case 1:
          return JSON.stringify(base).slice(0, i % 40);
        case 2:
          return JSON.stringify({ ...base, [`k${i}`]: i });
        case 3:
          return JSON.stringify({ ...base, requestId: i % 2 ? null : { nested: [i] } });
        case 4:
          return JSON.stringify([base]);
        case 5:
          return JSON.stringify({ ...base, type: `${base.type}`.toUpperCase() });
        case 6:
          return JSON.stringify({ __proto__: { type: 'ping' }, constructor: 'x', requestId: 'p' });
        default: {
          const mutated = { ...base };
          for (const key of Object.keys(mutated)) {
            if (key !== 'type' && i % 3 === 0)
              mutated[key] = [undefined, 0, '', {}, [], 'x'.repeat(i)][i % 6];
          }
          return JSON.stringify(mutated);
        }
      }
    };
    let accepted = 0;
    for (let i = 0; i < 5_000; i++) {
      const parsed = parseClientFrame(hostile(i), 64 * 1024);
      if (parsed.ok) {
        accepted++;
        expect(ClientFrame.safeParse(parsed.frame).success).toBe(true);
      } else {
        expect(codes.has(parsed.error.code), parsed.error.code).toBe(true);
        expect(parsed.error.type).toBe('error');
      }
    }
    expect(accepted).toBeLessThan(5_000);
  });
});
