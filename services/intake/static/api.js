// HTTP client of the console: bearer token in sessionStorage, Chinese error messages, and detection
// of endpoints the running backend does not have (so views can say 暂不可用 instead of failing).

const TOKEN_KEY = "hotline-token";
const BASE = "/api/v1";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body, missing) {
    super(errorText(status, body));
    this.status = status;
    this.body = body;
    this.missing = missing; // the endpoint itself does not exist (yet) on this server
  }
}

/** The Chinese message of an error body: `message`, a `detail` string, or a list of {field, message}. */
export function errorText(status, body) {
  if (body && typeof body.message === "string") return body.message;
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.message || d.msg || JSON.stringify(d)).join("；");
  if (status === 0) return "无法连接服务，请检查网络";
  return `请求失败（HTTP ${status}）`;
}

// FastAPI answers an unknown path with its English default; a word such as "similar" that lands on
// /cases/{case_id} is refused as a malformed case id. Both mean "this endpoint is not deployed".
function isMissing(status, body) {
  const detail = body && body.detail;
  if ((status === 404 || status === 405) && (detail === "Not Found" || detail === "Method Not Allowed")) return true;
  return status === 422 && Array.isArray(detail) && detail.some((d) => d.field === "case_id");
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

/** Call the API; resolves with the JSON body, rejects with ApiError. */
export async function api(path, { method = "GET", body, auth = true } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (auth && session.token) headers.Authorization = "Bearer " + session.token;
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null, false);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    if (response.status === 401 && auth) onUnauthorized();
    throw new ApiError(response.status, data, isMissing(response.status, data));
  }
  return data;
}

/** A URL for links and EventSource, which cannot send headers: the token rides as `access_token`. */
export function tokenUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") query.set(key, value);
  query.set("access_token", session.token || "");
  return `${BASE}${path}?${query}`;
}

let routes = null;
async function operation(method, path) {
  if (routes === null) {
    routes = fetch("/api/openapi.json").then((r) => (r.ok ? r.json() : null)).then((doc) => doc && doc.paths).catch(() => null);
  }
  const paths = await routes;
  if (!paths) return undefined;
  const wanted = BASE + path;
  // Exact path, or a template such as /exports/cases.{extension} that matches it.
  const key = wanted in paths ? wanted : Object.keys(paths).find((p) => templateMatches(p, wanted));
  return (key && paths[key][method.toLowerCase()]) || null;
}

function templateMatches(template, path) {
  if (!template.includes("{")) return false;
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${pattern}$`).test(path);
}

/** Whether the server's OpenAPI document lists `method path` (null when it cannot be read). */
export async function hasEndpoint(method, path) {
  const op = await operation(method, path);
  return op === undefined ? null : Boolean(op);
}

/** Whether `method path` takes the query parameter `name` (null when unknown). */
export async function hasParam(method, path, name) {
  const op = await operation(method, path);
  if (!op) return null;
  return (op.parameters || []).some((p) => p.name === name);
}
