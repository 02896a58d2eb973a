import { StewardClientError } from './clientError.ts';

/**
 * A server's URL, given as its HTTP base URL or its WebSocket URL, with its scheme mapped
 * by `schemes` (`ws:` → `http:`, say): the one parse both of the client's sides share.
 */
export function withScheme(url: string, schemes: Readonly<Record<string, string>>): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StewardClientError('ERR_VALIDATION', `${JSON.stringify(url)} is not a URL`);
  }
  const scheme = schemes[parsed.protocol];
  if (!scheme) {
    throw new StewardClientError('ERR_VALIDATION', `${url}: use http(s):// or ws(s)://`);
  }
  parsed.protocol = scheme;
  return parsed;
}
