// The HTTP API with the bearer token. Errors come back as `ApiError` with the API's code.

/** A refused or failed request: `code` is the API's error code (`ERR_…`). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the API as the holder of `token`; `onUnauthenticated` runs when the server refuses
 * the token (401), so the page can ask for another one.
 */
export function createApi(token, onUnauthenticated = () => {}) {
  async function request(method, path, { body, as = 'json' } = {}) {
    let response;
    try {
      response = await fetch(path, {
        method,
        cache: 'no-store',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(0, 'ERR_NETWORK', `the server did not answer: ${error.message}`);
    }
    if (!response.ok) {
      const payload = await response.json().catch(() => null);
      const code = payload?.error?.code ?? `HTTP_${response.status}`;
      if (response.status === 401) onUnauthenticated();
      throw new ApiError(response.status, code, payload?.error?.message ?? response.statusText);
    }
    return as === 'text' ? response.text() : response.json();
  }

  return {
    get: (path) => request('GET', path),
    text: (path) => request('GET', path, { as: 'text' }),
    post: (path, body) => request('POST', path, { body }),
  };
}

/** A query string from an object, leaving out empty values: `?state=paused`. */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
