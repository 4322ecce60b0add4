/** The API token, kept for this tab only (sessionStorage): gone when the tab closes, never in localStorage or the URL. */
const KEY = 'hubble-graph:api-token';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function writeToken(token: string | null) {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the token then lives as long as the page.
  }
}
