import type { PendingQuestion } from '../model/supervisor.ts';
import type { SubscribeFrame, UnsubscribeFrame } from '../protocol/frames.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import { committedOrStored } from './answering.ts';
import { canSee, type Principal } from './auth.ts';

/** What a connection asked to hear about; subscriptions add up. */
export interface Subscription {
  all: boolean;
  owners: Set<string>;
  ids: Set<string>;
}

export function emptySubscription(): Subscription {
  return { all: false, owners: new Set(), ids: new Set() };
}

/** Adds what a `subscribe` frame names. */
export function addScope(subscription: Subscription, frame: SubscribeFrame): void {
  if (frame.all) subscription.all = true;
  if (frame.owner !== undefined) subscription.owners.add(frame.owner);
  for (const id of frame.supervisorIds ?? []) subscription.ids.add(id);
}

/** Takes back what an `unsubscribe` frame names: the inverse of `addScope` for that scope. */
export function removeScope(subscription: Subscription, frame: UnsubscribeFrame): void {
  if (frame.all) subscription.all = false;
  if (frame.owner !== undefined) subscription.owners.delete(frame.owner);
  for (const id of frame.supervisorIds ?? []) subscription.ids.delete(id);
}

/**
 * True while the scope a `subscribe` frame named is still subscribed, so that loading its
 * pending questions stops once the client unsubscribed it.
 */
export function stillSubscribed(
  subscription: Subscription,
  frame: SubscribeFrame,
  supervisorId: string,
): boolean {
  if (subscription.all) return true;
  if (frame.owner !== undefined) return subscription.owners.has(frame.owner);
  if (frame.supervisorIds) return subscription.ids.has(supervisorId);
  return false;
}

/** True when a frame about this supervisor goes to the connection. */
export function wants(
  subscription: Subscription,
  principal: Principal,
  supervisorId: string,
  owner: string | null,
): boolean {
  if (!canSee(principal, owner)) return false;
  return (
    subscription.all ||
    (owner !== null && subscription.owners.has(owner)) ||
    subscription.ids.has(supervisorId)
  );
}

/** A pending question with the supervisor and committed version it belongs to. */
export interface PendingEntry {
  supervisorId: string;
  version: number;
  question: PendingQuestion;
}

const PAGE = 500;

/**
 * Every pending question a subscription covers, page by page, as the database and the
 * host's last commits have them. Supervisors the principal may not see are left out
 * silently: asking for an id tells nothing about whether it exists.
 */
export async function* pendingQuestionsFor(
  host: SupervisorHost,
  principal: Principal,
  frame: SubscribeFrame,
): AsyncGenerator<PendingEntry[]> {
  if (frame.supervisorIds) {
    for (let i = 0; i < frame.supervisorIds.length; i += PAGE) {
      const page: PendingEntry[] = [];
      for (const id of frame.supervisorIds.slice(i, i + PAGE)) {
        const known = await committedOrStored(host, id).catch(() => undefined);
        if (!known || !canSee(principal, known.owner)) continue;
        for (const question of known.pendingQuestions) {
          page.push({ supervisorId: id, version: known.version, question });
        }
      }
      yield page;
    }
    return;
  }
  const owner = frame.owner ?? (principal.admin ? undefined : (principal.owner ?? undefined));
  let afterId: string | undefined;
  for (;;) {
    const rows = await host.list({
      hasPendingQuestions: true,
      limit: PAGE,
      ...(owner === undefined ? {} : { owner }),
      ...(afterId === undefined ? {} : { afterId }),
    });
    const page: PendingEntry[] = [];
    for (const row of rows) {
      if (!canSee(principal, row.owner)) continue;
      const live = host.committed(row.id);
      const fresher = live && live.version > row.version;
      const version = fresher ? live.version : row.version;
      for (const question of fresher ? live.pendingQuestions : row.pendingQuestions) {
        page.push({ supervisorId: row.id, version, question });
      }
    }
    yield page;
    if (rows.length < PAGE) return;
    afterId = rows.at(-1)?.id;
  }
}
