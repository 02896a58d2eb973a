import { pino } from 'pino';

/** The structured JSON logger every part of Steward writes to. */
export type Logger = pino.Logger;

/**
 * Creates the runtime's logger: one JSON object per line on stdout.
 *
 * @example
 * const log = createLogger({ level: 'debug' });
 * log.info({ supervisorId }, 'supervisor restored');
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'steward',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
    },
    // Synchronous, so log lines keep their order with the process's other output and none
    // is lost when the process exits.
    pino.destination({ sync: true }),
  );
}

/**
 * An error as a log line shows it: name, message, code and stack, nothing else. pino's own
 * serializer copies every property, and a driver's error can carry its whole connection
 * (pg's does): megabytes written synchronously, for every idle connection that fails at once.
 */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code } = error as { code?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    stack: error.stack,
  };
}

/** A logger that drops everything: the default for library calls given none. */
export const silentLogger: Logger = pino({ level: 'silent' });
