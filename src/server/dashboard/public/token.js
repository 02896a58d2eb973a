// Where the page keeps its token: this tab's session storage. A link may carry one in its
// fragment (`/#token=…`): the fragment never reaches the server or a referrer, and the page
// takes it out of the address bar at once so it is not bookmarked or shared by accident.

const KEY = 'steward.token';

/** The token from `#token=…` if the address has one (then removed), else the stored one. */
export function takeToken() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]);
    sessionStorage.setItem(KEY, token);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    return token;
  }
  return sessionStorage.getItem(KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
