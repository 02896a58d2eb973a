import {
  CLIENT_FRAME_TYPES,
  ClientFrame,
  DEFAULT_MAX_FRAME_BYTES,
  type ErrorFrame,
} from './frames.ts';

/** A parsed client frame, or the error frame to send back. Never throws. */
export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorFrame };

const KNOWN_TYPES: ReadonlySet<string> = new Set(CLIENT_FRAME_TYPES);

function requestIdOf(value: unknown): string | null {
  const id = (value as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
}

/**
 * Parses and validates one inbound frame. Oversized, malformed, unknown and ill-shaped
 * frames come back as error frames with a stable code (and the request id when one could
 * be read): a bad frame never throws and never changes anything.
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
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return {
      ok: false,
      error: {
        type: 'error',
        requestId: null,
        code: 'ERR_MESSAGE_INVALID',
        message: 'the frame is not valid JSON',
      },
    };
  }
  const requestId = requestIdOf(value);
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
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
