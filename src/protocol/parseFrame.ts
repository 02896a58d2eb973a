import {
  CLIENT_FRAME_TYPES,
  ClientFrame,
  DEFAULT_MAX_FRAME_BYTES,
  type ErrorFrame,
} from './frames.ts';

/** A parsed client frame, or the error frame to send back. Never throws. */
export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorFrame };

const KNOWN_TYPES: ReadonlySet<string> = new Set(CLIENT_FRAME_TYPES);

/** Binary frames are read as UTF-8 text; bytes that are not UTF-8 are refused, not replaced. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function invalid(requestId: string | null, message: string): ParsedFrame {
  return { ok: false, error: { type: 'error', requestId, code: 'ERR_MESSAGE_INVALID', message } };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function requestIdOf(value: unknown): string | null {
  const id = (value as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
}

/**
 * Parses and validates one inbound frame, text or binary (binary frames are UTF-8 JSON
 * too). Oversized, malformed, unknown and ill-shaped frames come back as error frames with
 * a stable code (and the request id when one could be read): `ERR_MESSAGE_UNKNOWN_TYPE`
 * only for a string `type` the protocol does not know, `ERR_MESSAGE_INVALID` for a frame
 * that is not a JSON object with a string `type` or does not fit its schema. A bad frame
 * never throws and never changes anything.
 *
 * @example
 * const parsed = parseClientFrame(text);
 * if (!parsed.ok) socket.send(JSON.stringify(parsed.error));
 */
export function parseClientFrame(
  raw: string | Buffer,
  maxBytes: number = DEFAULT_MAX_FRAME_BYTES,
): ParsedFrame {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (bytes > maxBytes) {
    return {
      ok: false,
      error: {
        type: 'error',
        requestId: null,
        code: 'ERR_MESSAGE_TOO_LARGE',
        message: `frames are limited to ${maxBytes} bytes; this one has ${bytes}`,
      },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : UTF8.decode(raw));
  } catch {
    return invalid(null, 'the frame is not valid JSON (a binary frame: not UTF-8 JSON)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(
      null,
      `a frame is a JSON object with a string \`type\`; this one is ${kindOf(value)}`,
    );
  }
  const requestId = requestIdOf(value);
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    const what = type === undefined ? 'has none' : `has ${kindOf(type)}`;
    return invalid(requestId, `a frame is a JSON object with a string \`type\`; this one ${what}`);
  }
  if (!KNOWN_TYPES.has(type)) {
    return {
      ok: false,
      error: {
        type: 'error',
        requestId,
        code: 'ERR_MESSAGE_UNKNOWN_TYPE',
        message: `unknown frame type ${JSON.stringify(type)}; expected one of ${[...KNOWN_TYPES].join(', ')}`,
      },
    };
  }
  const parsed = ClientFrame.safeParse(value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  return {
    ok: false,
    error: {
      type: 'error',
      requestId,
      code: 'ERR_MESSAGE_INVALID',
      message: `invalid ${type} frame: ${parsed.error.issues[0]?.message}`,
      issues: frameIssues(parsed.error.issues),
    },
  };
}

/** Validation issues (zod's, or ones carried by an error's details) as an error frame lists them. */
export function frameIssues(
  issues: ReadonlyArray<{ code: unknown; path?: readonly PropertyKey[]; message: unknown }>,
): NonNullable<ErrorFrame['issues']> {
  return issues.map((issue) => ({
    code: String(issue.code),
    path: (issue.path ?? []).map((key) => (typeof key === 'number' ? key : String(key))),
    message: String(issue.message),
  }));
}
