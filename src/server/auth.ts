import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

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
  /**
   * True while the token a principal came from is still configured with the same grant
   * (owner, admin, roles): false once `replace` removed or changed it.
   */
  holds(principal: Principal): boolean;
  /**
   * Replaces every token at once (a rotated tokens file). Validates all grants first: a
   * bad list throws and the old tokens stay.
   */
  replace(grants: readonly TokenGrant[]): void;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

interface Entry {
  digest: Buffer;
  principal: Principal;
  /** The token's digest and its grant: equal keys mean the same access. */
  key: string;
}

function entriesOf(grants: readonly TokenGrant[]): Entry[] {
  return grants.map((input, index) => {
    const grant = TokenGrant.parse(input);
    const principal: Principal = {
      owner: grant.owner ?? null,
      admin: grant.admin,
      roles: Object.freeze([...grant.roles]),
      label: grant.admin ? `admin#${index}` : `${grant.owner}#${index}`,
    };
    const hashed = digest(grant.token);
    const key = JSON.stringify([
      hashed.toString('hex'),
      principal.owner,
      principal.admin,
      [...principal.roles].sort(),
    ]);
    return { digest: hashed, principal: Object.freeze(principal), key };
  });
}

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
  let entries = entriesOf(grants);
  let current = new Set(entries.map((e) => e.key));
  /** Every principal handed out, with its key: connections keep principals, not tokens. */
  const keys = new WeakMap<Principal, string>();
  return {
    get size() {
      return entries.length;
    },
    authenticate(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
      const presented = digest(token);
      let found: Entry | null = null;
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, presented)) found = entry;
      }
      if (!found) return null;
      keys.set(found.principal, found.key);
      return found.principal;
    },
    holds(principal) {
      const key = keys.get(principal);
      return key !== undefined && current.has(key);
    },
    replace(next) {
      const replaced = entriesOf(next);
      entries = replaced;
      current = new Set(replaced.map((e) => e.key));
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
