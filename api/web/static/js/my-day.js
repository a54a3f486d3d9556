// The engineer's own day, for a phone: his open visits in the order he does them (GET
// /v1/me/tickets, route order), when to leave and when he is expected (as the board projects
// it: later than planned when his job before runs over), which part to pick up where, the
// nearest promise, and the next step he reports himself (en route, on site, fixed).
import { api, el, fmtMinutes, fmtTime, requirePage, toast, zoneLabel } from "./api.js";

const $ = (id) => document.getElementById(id);
const NEXT = { assigned: ["en_route", "On my way"], en_route: ["on_site", "Arrived"], on_site: ["fixed", "Fixed"] };
const sites = new Map();
let zone = "UTC";

async function site(id) {
  if (!sites.has(id)) sites.set(id, await api(`/v1/sites/${id}`));
  return sites.get(id);
}

function risk(ticket) {
  const states = ticket.clocks.map((c) => c.state);
  return states.includes("breached") ? "breached" : states.includes("at_risk") ? "at_risk" : "on_time";
}

const minutesBetween = (a, b) => Math.round((new Date(b) - new Date(a)) / 60000);
const dayOf = (date) => date.toLocaleDateString("en-CA", { timeZone: zone });
// "09:30" on the day of `ref` (today), "4 Dec, 09:30" on another (his region's calendar).
const at = (iso, ref) => fmtTime(iso, zone,
  { withDate: dayOf(new Date(iso)) !== dayOf(ref ? new Date(ref) : new Date()) });

// "Leave 09:30 · arrive 10:00", the planned times and the delay in words when later than
// planned: pushed behind his job before, set off late (en route), not arrived by now (the
// server says so, `visit.overdue`, and reads the arrival as now), or, on site, his job
// running over. The page never decides lateness by the phone's own clock.
function when(t, v) {
  if (!v) return "";
  const onSite = t.status === "on_site";
  const due = t.status === "en_route" && (v.overdue ?? []).includes("arrive");
  const late = onSite ? minutesBetween(v.fixes_at, v.expected_fixes_at)
    : minutesBetween(v.arrives_at, v.expected_arrives_at);
  const main = onSite ? `On site · done by ${at(v.expected_fixes_at)}`
    : due ? "Arriving now"
    : t.status === "en_route" ? `Arrive ${at(v.expected_arrives_at)}`
    : `Leave ${at(v.expected_departs_at)} · arrive ${at(v.expected_arrives_at, v.expected_departs_at)}`;
  if (late <= 0) return el("div", { class: "when" }, main);
  const planned = onSite ? `done by ${at(v.fixes_at)}`
    : t.status === "en_route" ? `arrive ${at(v.arrives_at)}`
    : `leave ${at(v.departs_at)}, arrive ${at(v.arrives_at, v.departs_at)}`;
  const overrun = minutesBetween(v.expected_arrives_at, v.expected_fixes_at) > minutesBetween(v.arrives_at, v.fixes_at);
  const why = v.pushed_min > 0 ? "your job before runs over"
    : onSite ? (overrun ? "your job runs over" : "you arrived late")
    : due ? "not arrived yet"
    : t.status === "en_route" ? "you set off late" : "later than planned";
  return el("div", { class: "when" }, el("b", {}, main),
    el("div", { class: "late small" }, `planned: ${planned} — ${fmtMinutes(late)} late, ${why}`));
}

// What he picks up where, or that the part comes to the site.
function parts(v) {
  if (!v) return "";
  if (v.parts_source === "pickup") {
    const what = v.pickup.map((p) => `${p.quantity > 1 ? `${p.quantity} × ` : ""}${p.sku} ${p.part_name}`);
    return el("div", { class: "parts" }, `Pick up ${what.join(", ") || "parts"} at ${v.depot_name ?? "the depot"}`);
  }
  if (v.parts_source === "shipment") return el("div", { class: "parts" }, "Part shipped to site");
  if (v.parts_source === "van") return el("div", { class: "parts muted small" }, "Part in your van");
  return "";
}

async function load() {
  const tickets = await api("/v1/me/tickets");
  if (tickets.length) {
    const first = await site(tickets[0].site_id);
    const region = await api(`/v1/regions/${first.region_id}`);
    zone = region.timezone;
  }
  $("zone").textContent = tickets.length ? `Times in ${zoneLabel(zone)}` : "";
  const items = [];
  for (const [n, t] of tickets.entries()) {
    const s = await site(t.site_id);
    const pending = t.clocks.filter((c) => !c.event_at && c.state !== "void")
      .sort((a, b) => new Date(a.deadline) - new Date(b.deadline))[0];
    const next = NEXT[t.status];
    items.push(el("li", { class: risk(t) },
      el("div", {}, el("span", { class: "order" }, `${n + 1}`), el("b", { class: "code" }, t.code),
        ` · ${t.severity} · ${t.status.replace("_", " ")}`),
      el("div", {}, s.name), el("div", { class: "small muted" }, s.address ?? s.place ?? ""),
      when(t, t.visit), parts(t.visit),
      pending ? promise(pending) : "",
      next ? el("div", { class: "steps" }, el("button", { type: "button", onclick: () => step(t, next[0]) }, next[1])) : ""));
  }
  $("visits").replaceChildren(...(items.length ? items : [el("li", {}, "No open visit. Enjoy the quiet.")]));
}

// The nearest promise: time left, or, when his plan already misses it (the clock reads the
// planned or expected time: negative slack), by how much, so he can tell dispatch at once;
// overdue when the server says so (`clock.overdue`, at its now), not by the phone's clock.
function promise(c) {
  const by = `${c.clock} by ${fmtTime(c.deadline, zone)}`;
  const left = (new Date(c.deadline) - Date.now()) / 60000;
  if (c.overdue) return el("div", { class: "late small" }, `${by} — ${fmtMinutes(Math.max(0, -left))} overdue`);
  if (c.slack_min !== null && c.slack_min < 0) {
    return el("div", { class: "late small" }, `${by} — your plan is ${fmtMinutes(-c.slack_min)} late`);
  }
  return el("div", {}, `${by} (${fmtMinutes(Math.max(0, left))} left)`);
}

async function step(ticket, status) {
  try {
    await api(`/v1/me/tickets/${ticket.id}/status`, { method: "POST", body: { status } });
    toast(`${ticket.code}: ${status.replace("_", " ")}`, "ok");
    await load();
  } catch (problem) {
    toast(problem.message, "error");
  }
}

if (requirePage("my-day")) {
  load();
  setInterval(() => { if (!document.hidden) load(); }, 30000);
}
