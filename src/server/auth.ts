import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Audience } from '../model/supervisor.ts';

/** Who a token speaks for. */
export interface Principal {
  /** The owner whose supervisors it sees; `null` for an admin token without an owner. */
  owner: string | null;
  /** Sees and answers every supervisor's questions. */
  admin: boolean;
  /** Roles it holds, for questions addressed to a role. */
  roles: readonly string[];
  /** A name for logs: never the token. */
  label: string;
}

/** One configured token. */
export const TokenGrant = z
  .strictObject({
    token: z.string().min(16, 'tokens must have at least 16 characters'),
    owner: z.string().min(1).max(200).optional(),
    admin: z.boolean().default(false),
    roles: z.array(z.string().min(1)).default([]),
  })
  .refine((grant) => grant.admin || grant.owner !== undefined, {
    message: 'a token needs an owner unless it is an admin token',
  });
export type TokenGrant = z.input<typeof TokenGrant>;

/** Resolves tokens to principals. */
export interface TokenTable {
  /** The principal of a token, or `null`; takes the same time whichever token matches. */
  authenticate(token: string | undefined | null): Principal | null;
  readonly size: number;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Builds the token table. Tokens are kept as SHA-256 digests and every lookup compares
 * against every entry with `timingSafeEqual`, so neither the time taken nor an early exit
 * tells an attacker how much of a guess was right.
 *
 * @example
 * const tokens = createTokenTable([{ token: process.env.ALICE_TOKEN!, owner: 'alice' }]);
 * tokens.authenticate(header)?.owner; // 'alice'
 */
export function createTokenTable(grants: readonly TokenGrant[]): TokenTable {
  const entries = grants.map((input, index) => {
    const grant = TokenGrant.parse(input);
    const principal: Principal = {
      owner: grant.owner ?? null,
      admin: grant.admin,
      roles: Object.freeze([...grant.roles]),
      label: grant.admin ? `admin#${index}` : `${grant.owner}#${index}`,
    };
    return { digest: digest(grant.token), principal: Object.freeze(principal) };
  });
  return {
    size: entries.length,
    authenticate(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
      const presented = digest(token);
      let found: Principal | null = null;
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
      }
      return found;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** True when the principal may see a supervisor with this owner and its questions. */
export function canSee(principal: Principal, owner: string | null): boolean {
  return principal.admin || (owner !== null && owner === principal.owner);
}

/** True when the principal may answer a question of a supervisor it can see. */
export function canAnswer(principal: Principal, owner: string | null, audience: Audience): boolean {
  if (!canSee(principal, owner)) return false;
  if (principal.admin) return true;
  return audience.kind === 'owner' || principal.roles.includes(audience.role);
}
