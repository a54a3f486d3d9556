// The one way pages talk to the server: the /v1 API with the user's key, nothing else.
// The key lives in this tab's sessionStorage; the server enforces every rule.

const KEY = "spares.apiKey";
const WHO = "spares.who";

export function apiKey() { return sessionStorage.getItem(KEY); }

export function signIn(key, who) {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(WHO, JSON.stringify(who));
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(WHO);
  location.assign("/");
}

export function who() {
  const raw = sessionStorage.getItem(WHO);
  return raw ? JSON.parse(raw) : null;
}

/** A problem+json answer (or a network failure) as an Error with the problem attached. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Call the API: JSON in and out; `idempotencyKey` for stock writes. */
export async function api(path, { method = "GET", body, idempotencyKey, key } = {}) {
  const headers = { "X-API-Key": key ?? apiKey() ?? "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401 && key === undefined) signOut();
    throw new ApiProblem(response.status, typeof data === "object" ? data : { detail: data });
  }
  return data;
}

/** A binary answer (an image) as an object URL the page may show; the key goes along. */
export async function apiObjectUrl(path) {
  const response = await fetch(path, { headers: { "X-API-Key": apiKey() ?? "" } });
  if (!response.ok) throw new ApiProblem(response.status, await response.json().catch(() => ({})));
  return URL.createObjectURL(await response.blob());
}

/** Every page of a keyset-paged list (`next_after`), up to `max` rows. */
export async function apiAll(path, { limit = 500, max = 5000 } = {}) {
  const items = [];
  let after = null;
  const sep = path.includes("?") ? "&" : "?";
  do {
    const page = await api(`${path}${sep}limit=${limit}${after === null ? "" : `&after=${after}`}`);
    items.push(...page.items);
    after = page.next_after;
  } while (after !== null && items.length < max);
  return items;
}

/** A fresh Idempotency-Key for one user action (a retry of the same action reuses it). */
export function newKey(prefix) {
  const random = crypto.getRandomValues(new Uint32Array(2)).join("-");
  return `${prefix}-${random}`;
}

// Times: shown in the region's zone with its offset, whatever zone the API answered in.
const formats = new Map();
function formatter(zone, withDate) {
  const id = `${zone}|${withDate}`;
  if (!formats.has(id)) {
    const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withDate) Object.assign(options, { month: "short", day: "numeric" });
    formats.set(id, new Intl.DateTimeFormat("en-GB", options));
  }
  return formats.get(id);
}

/** "+08:00": the zone's offset from UTC at that instant. */
export function offsetOf(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(date);
  const name = parts.find((p) => p.type === "timeZoneName")?.value || "GMT";
  return name === "GMT" ? "+00:00" : name.replace("GMT", "");
}

/** "14:05" (or "3 Dec 14:05") in `zone`; the offset is said once per page (zoneLabel). */
export function fmtTime(iso, zone, { withDate = false } = {}) {
  if (!iso) return "—";
  return formatter(zone, withDate).format(new Date(iso));
}

/** "Asia/Shanghai (UTC+08:00)": what the page's times mean. */
export function zoneLabel(zone, at = new Date()) { return `${zone} (UTC${offsetOf(at, zone)})`; }

/** "1 h 05 min", "-12 min": a countdown or slack in minutes. */
export function fmtMinutes(minutes) {
  if (minutes === null || minutes === undefined) return "—";
  const sign = minutes < 0 ? "-" : "";
  const m = Math.abs(Math.round(minutes));
  if (m < 60) return `${sign}${m} min`;
  return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Show a short message in the page's status region. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Text-safe element builder: el("td", {class: "x"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Guard a page: signed in, and a role this page serves; shows the role's navigation. */
export function requirePage(page) {
  const me = who();
  if (!apiKey() || !me) { location.assign("/"); return null; }
  const nav = document.getElementById("nav");
  for (const link of nav.querySelectorAll("[data-page-link]")) {
    link.hidden = !me.pages.some((p) => p.name === link.dataset.pageLink);
  }
  nav.hidden = false;
  document.getElementById("who").textContent = `${me.name} · ${me.role}`;
  const out = document.getElementById("logout");
  out.hidden = false;
  out.addEventListener("click", signOut);
  if (!me.pages.some((p) => p.name === page)) {
    document.getElementById("main").replaceChildren(
      el("p", { class: "error", role: "alert" }, `Your role (${me.role}) has no ${page} page.`));
    return null;
  }
  return me;
}
