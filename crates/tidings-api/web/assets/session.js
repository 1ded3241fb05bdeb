// The agent's session. The access token lives in this module's memory only; the refresh token is
// in an httpOnly cookie the page cannot read (cookie mode of /v1/auth), so a reload restores the
// session with one refresh and nothing secret is ever written to storage.

import { request } from "./api.js";

let accessToken = null;
let renewTimer = null;
let refreshing = null;
const listeners = new Set();

/** The logged-in user and company, once known. */
export const current = { user: null, company: null };

/** Calls `fn(token)` whenever the access token changes, and `fn(null)` when the session ends. */
export function onTokenChange(fn) {
  listeners.add(fn);
}

/** The access token in memory (null when logged out). */
export function accessTokenNow() {
  return accessToken;
}

function adopt(data) {
  accessToken = data.access_token;
  if (data.user) current.user = data.user;
  if (data.company) current.company = data.company;
  clearTimeout(renewTimer);
  // A minute before the token expires; the realtime connection gets the new one in band.
  const seconds = Math.max(10, (data.expires_in || 900) - 60);
  renewTimer = setTimeout(() => refresh().catch(() => {}), seconds * 1000);
  listeners.forEach((fn) => fn(accessToken));
}

function end() {
  clearTimeout(renewTimer);
  accessToken = null;
  current.user = null;
  current.company = null;
  listeners.forEach((fn) => fn(null));
}

/** Logs in; the refresh token goes into the cookie. */
export async function login(email, password) {
  adopt(await request("POST", "/v1/auth/login", { body: { email, password }, session: true }));
}

/** Creates a company and its owner, who is then logged in. */
export async function register(input) {
  adopt(await request("POST", "/v1/auth/register", { body: input, session: true }));
}

/**
 * Trades the cookie's refresh token for a new pair. Refresh tokens are single-use and a reused one
 * ends the session, so refreshes are serialised: within the page by sharing one promise, across
 * tabs by a Web Lock where the browser has them (each tab then sends the cookie the last one left).
 */
export function refresh() {
  if (!refreshing) {
    const run = () => request("POST", "/v1/auth/refresh", { body: {}, session: true });
    const locked = navigator.locks ? navigator.locks.request("tidings-refresh", run) : run();
    refreshing = locked
      .then((data) => {
        adopt(data);
        return accessToken;
      })
      .catch((error) => {
        if (error.status === 401) end();
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** After a page load: the session the cookie holds, or null when there is none. */
export async function restore() {
  try {
    await refresh();
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
  const me = await call("GET", "/v1/auth/me");
  current.user = me.user;
  current.company = me.company;
  return current;
}

/** Ends the session here and on the server (its refresh tokens are revoked, the cookie removed). */
export async function logout() {
  try {
    await request("POST", "/v1/auth/logout", { body: {}, session: true });
  } finally {
    end();
  }
}

/** An authenticated API call; an expired access token is refreshed once and the call retried. */
export async function call(method, path, body) {
  try {
    return await request(method, path, { token: accessToken, body });
  } catch (error) {
    if (error.status === 401 && error.code === "TOKEN_EXPIRED") {
      await refresh();
      return request(method, path, { token: accessToken, body });
    }
    throw error;
  }
}
