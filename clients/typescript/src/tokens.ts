/**
 * The token cache: one token remembered until shortly before it expires, one refresh at a time.
 *
 * Better Auth's `authClient.token()` is a round trip to the auth server; calling it before every
 * request doubles the latency of each. The cache calls the getter only when it holds no token,
 * when the token is about to expire (its `exp` claim, read but never verified: verifying is the
 * API's job), or when the API rejected it (a 401). However many requests need a token at once,
 * the getter runs once and they all wait for that one answer.
 * @module
 */

/**
 * Returns the current user's token (a JWT), or `null`/`undefined` when signed out, in which
 * case the request goes without `Authorization` and the API answers 401.
 */
export type TokenGetter = () => string | null | undefined | Promise<string | null | undefined>;

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /**
   * How long before its `exp` a token is replaced, in seconds (default 30): a request must
   * not leave with a token that expires on the way.
   */
  refreshBeforeSeconds?: number;
  /** The clock, in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A cache of one user's token, shared by every request of a client. */
export interface TokenCache {
  /** The cached token while it is fresh; otherwise a new one from the getter. */
  get(): Promise<string | undefined>;
  /**
   * A new token from the getter, because `rejected` (the token a request was sent with) was
   * refused. If the cache already holds another token (another request refreshed it first),
   * that one is returned without calling the getter; concurrent calls share one refresh.
   */
  refresh(rejected?: string): Promise<string | undefined>;
  /** Forgets the token (e.g. at sign-out); the next {@link TokenCache.get} calls the getter. */
  clear(): void;
}

/**
 * The `exp` claim of a JWT in milliseconds since the epoch, or `undefined` when the token is
 * not a JWT or has none. The signature is not checked.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(decodeBase64Url(payload));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function decodeBase64Url(text: string): string {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Wraps `getToken` in a {@link TokenCache}. A token without a readable `exp` is kept until the
 * API rejects it.
 */
export function createTokenCache(getToken: TokenGetter, options: TokenCacheOptions = {}): TokenCache {
  const margin = (options.refreshBeforeSeconds ?? 30) * 1000;
  const now = options.now ?? Date.now;
  let token: string | undefined;
  let expiresAt: number | undefined;
  let inflight: Promise<string | undefined> | undefined;
  // Bumped by clear(): a refresh that started before it must not store its answer.
  let generation = 0;

  const fresh = (): boolean =>
    token !== undefined && (expiresAt === undefined || now() < expiresAt - margin);

  const load = (): Promise<string | undefined> => {
    if (!inflight) {
      const started = generation;
      inflight = (async () => {
        try {
          const value = (await getToken()) ?? undefined;
          if (started === generation) {
            token = value || undefined;
            expiresAt = token ? tokenExpiry(token) : undefined;
          }
          return value || undefined;
        } finally {
          inflight = undefined;
        }
      })();
    }
    return inflight;
  };

  return {
    async get() {
      if (inflight) return inflight;
      return fresh() ? token : load();
    },
    async refresh(rejected) {
      if (inflight) return inflight;
      if (token !== undefined && token !== rejected && fresh()) return token;
      token = undefined;
      return load();
    },
    clear() {
      generation += 1;
      token = undefined;
      expiresAt = undefined;
      inflight = undefined;
    },
  };
}
