// A host that serves any supervisor of the cluster: a call for one whose slice this node
// acts for runs here; any other travels to its owner through the inbox and resolves after
// the owner's commit. Reads come from the shared rows either way, and subscribers hear the
// changes committed here and, when given, those committed by the other nodes.
import { createHash, randomUUID } from 'node:crypto';
import { isStewardError, StewardError } from '../../errors.ts';
import type { ChangeListener } from '../commit/committedChanges.ts';
import type {
  AnswerOptions,
  AnswerResult,
  Committed,
  SpawnOptions,
  SupervisorHost,
} from '../hostApi.ts';
import { databaseUnavailable } from '../hostErrors.ts';
import type { RestorationInfo } from '../restore/restoration.ts';
import type { CallForwarder } from './callForwarder.ts';
import type { ForwardedCall } from './forwardedCall.ts';
import type { KeyedLine } from './keyedLine.ts';

/** Where the changes other nodes commit come from (src/runtime/forwarding/remoteChanges.ts). */
export interface ChangeSource {
  subscribe(listener: ChangeListener): () => void;
}

/**
 * Wraps `host` (which acts only for its node's slices) so that every call reaches the
 * owner of its supervisor.
 */
export function forwardingHost(
  host: SupervisorHost,
  forwarder: Pick<CallForwarder, 'forward'>,
  remote?: ChangeSource,
  line?: KeyedLine,
): SupervisorHost {
  const via = placing(host, forwarder, line);

  const send = (id: string, event: unknown, options: Parameters<SupervisorHost['send']>[2]) =>
    via<Committed>(
      id,
      () => host.send(id, event, options),
      () => ({ kind: 'send', event, options: commandOptions(options) }),
    );

  return {
    spawn: spawning(host, via),
    send,
    answer: (id, questionId, value, options = {}) =>
      via<AnswerResult>(
        id,
        () => host.answer(id, questionId, value, options),
        () => ({ kind: 'answer', questionId, value, options: answerOptions(options) }),
        false,
      ),
    recordCommand: (id, command, options, details) =>
      via<Committed>(
        id,
        () => host.recordCommand(id, command, options, details),
        () => ({
          kind: 'recordCommand',
          command,
          options: commandOptions(options),
          ...(details === undefined ? {} : { details }),
        }),
      ),
    pause: (id, options) => send(id, { type: 'supervisor.pause' }, options),
    resume: (id, options) => send(id, { type: 'supervisor.resume' }, options),
    cancel: (id, reason, options) =>
      send(id, { type: 'supervisor.cancel', ...(reason === undefined ? {} : { reason }) }, options),
    restore: (id, source = 'manual', options = {}) =>
      via<RestorationInfo>(
        id,
        () => host.restore(id, source, options),
        () => ({ kind: 'restore', source, options: commandOptions(options) }),
      ),
    retry: (id, options = {}) =>
      via<RestorationInfo>(
        id,
        () => host.retry(id, options),
        () => ({
          kind: 'retry',
          options: {
            ...commandOptions(options),
            ...(options.reason === undefined ? {} : { reason: options.reason }),
          },
        }),
      ),
    subscribe(listener) {
      const local = host.subscribe(listener);
      const others = remote?.subscribe(listener);
      return () => {
        local();
        others?.();
      };
    },
    ...passThrough(host),
  };
}

/** A call placed: run here when this node acts for its supervisor, else at its owner. */
type Via = <T>(
  id: string,
  here: () => Promise<T>,
  call: () => ForwardedCall,
  keyed?: boolean,
) => Promise<T>;

/**
 * Here when this node acts for it (a keyed command in its key's line, shared with the
 * calls forwarded here), else (or when it moved meanwhile) at its owner.
 */
function placing(
  host: SupervisorHost,
  forwarder: Pick<CallForwarder, 'forward'>,
  line: KeyedLine | undefined,
): Via {
  return async (id, here, call, keyed = true) => {
    const duties = host.slices;
    // Without its database the node knows no owner to trust, and no inbox would take it.
    if (host.commitHealth().suspended) throw databaseUnavailable();
    if (!duties || duties.owns(id)) {
      try {
        return await (line && keyed ? line.run(id, call(), here) : here());
      } catch (error) {
        // Refused before anything was applied: the slice left this node during the call.
        if (!duties || !isStewardError(error, 'ERR_SUPERVISOR_MOVED')) throw error;
      }
    }
    return forwarder.forward(id, call());
  };
}

/** What serves every supervisor alike: reads of the shared rows, and the node's own parts. */
function passThrough(host: SupervisorHost): Omit<SupervisorHost, Travelling | 'subscribe'> {
  return {
    get: (id) => host.get(id),
    list: (filter) => host.list(filter),
    countByState: () => host.countByState(),
    countPendingQuestions: () => host.countPendingQuestions(),
    countByStateValue: (machineId, owner) => host.countByStateValue(machineId, owner),
    timeInState: (machineId, owner) => host.timeInState(machineId, owner),
    history: (id, limit) => host.history(id, limit),
    journal: (id, page) => host.journal(id, page),
    keyedEntries: (key, since) => host.keyedEntries(key, since),
    checkpoints: (id, limit) => host.checkpoints(id, limit),
    committed: (id) => host.committed(id),
    heartbeat: () => host.heartbeat(),
    local: (id) => host.local(id),
    size: () => host.size(),
    passivated: () => host.passivated(),
    deferred: () => host.deferred(),
    restoreAll: (source, slices) => host.restoreAll(source, slices),
    slices: host.slices,
    databaseLost: () => host.databaseLost(),
    databaseBack: () => host.databaseBack(),
    commitHealth: () => host.commitHealth(),
    stop: (options) => host.stop(options),
  };
}

/**
 * Created in this node's slices while it holds some; else (still taking its share) by the
 * node that holds the slice of an id chosen here.
 */
function spawning(host: SupervisorHost, via: Via): SupervisorHost['spawn'] {
  return (machineId, input, options = {}) => {
    const duties = host.slices;
    if (!duties || (options.id === undefined && duties.held().length > 0)) {
      return host.spawn(machineId, input, options);
    }
    const id = options.id ?? travellingId(options);
    return via(
      id,
      () => host.spawn(machineId, input, { ...options, id }),
      () => ({
        kind: 'spawn',
        machineId,
        input,
        options: {
          ...commandOptions(options),
          ...(options.owner === undefined ? {} : { owner: options.owner }),
        },
      }),
    );
  };
}

/**
 * The id of a supervisor created through another node: random, or, for a keyed create,
 * derived from who asked and the key, so that its repeats (through any node) name the
 * same supervisor and its owner's line finds the first one.
 */
function travellingId(options: SpawnOptions): string {
  if (!options.idempotency) return randomUUID();
  const { key, requestHash } = options.idempotency;
  const hex = createHash('sha256')
    .update(JSON.stringify([options.by ?? null, key, requestHash]))
    .digest('hex');
  // Shaped as a UUID of version 8 (custom), RFC variant.
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The calls placed here: the others go to the owner. */
type Travelling =
  | 'spawn'
  | 'send'
  | 'answer'
  | 'recordCommand'
  | 'pause'
  | 'resume'
  | 'cancel'
  | 'restore'
  | 'retry';

type Options = { by?: unknown; idempotency?: unknown } | undefined;

/** The options that travel: who asked and the idempotency key, never a function. */
function commandOptions(options: Options): Extract<ForwardedCall, { kind: 'send' }>['options'] {
  const travelling: Record<string, unknown> = {};
  if (options?.by !== undefined) travelling.by = options.by;
  if (options?.idempotency !== undefined) travelling.idempotency = options.idempotency;
  return travelling as Extract<ForwardedCall, { kind: 'send' }>['options'];
}

function answerOptions(
  options: AnswerOptions,
): Extract<ForwardedCall, { kind: 'answer' }>['options'] {
  if (options.mayAnswer) {
    throw new StewardError(
      'ERR_VALIDATION',
      'an answer with `mayAnswer` (a function) cannot travel to the node that owns the supervisor: give `grant` instead',
    );
  }
  return {
    ...commandOptions(options),
    ...(options.answeredBy === undefined ? {} : { answeredBy: options.answeredBy }),
    ...(options.grant === undefined
      ? {}
      : { grant: { ...options.grant, roles: [...options.grant.roles] } }),
  };
}
