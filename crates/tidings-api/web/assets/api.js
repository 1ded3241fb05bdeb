// The HTTP API client: JSON in and out, every failure turned into an ApiError carrying the
// envelope's code and message ({"error": {"code", "message"}}), so views can always say what went wrong.

/** An error to show: the server's envelope, or what the browser could tell. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the API. `token` is the access token (kept in memory only) and `session` adds the
 * header that asks for cookie mode on /v1/auth (the refresh token then lives in an httpOnly cookie).
 */
export async function request(method, path, { token, body, session } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (session) headers["x-tidings-session"] = "cookie";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "NETWORK", "Cannot reach the server. Check your connection; retrying helps.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, "BAD_RESPONSE", `The server answered ${res.status} with something that is not JSON.`);
    }
  }
  if (!res.ok) {
    const error = data && data.error;
    if (error && error.message) throw new ApiError(res.status, error.code, error.message);
    throw new ApiError(res.status, "HTTP_" + res.status, `The server answered ${res.status}.`);
  }
  return data;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
