// The engineer's own day, for a phone: his open visits (GET /v1/me/tickets), where, by when,
// and the next step he reports himself (en route, on site, fixed).
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

async function load() {
  const tickets = await api("/v1/me/tickets");
  if (tickets.length) {
    const first = await site(tickets[0].site_id);
    const region = await api(`/v1/regions/${first.region_id}`);
    zone = region.timezone;
  }
  $("zone").textContent = tickets.length ? `Times in ${zoneLabel(zone)}` : "";
  const items = [];
  for (const t of tickets) {
    const s = await site(t.site_id);
    const pending = t.clocks.filter((c) => !c.event_at && c.state !== "void")
      .sort((a, b) => new Date(a.deadline) - new Date(b.deadline))[0];
    const next = NEXT[t.status];
    items.push(el("li", { class: risk(t) },
      el("div", {}, el("b", {}, t.code), ` · ${t.severity} · ${t.status.replace("_", " ")}`),
      el("div", {}, s.name), el("div", { class: "small muted" }, s.address ?? s.place ?? ""),
      pending ? el("div", {}, `${pending.clock} by ${fmtTime(pending.deadline, zone)} (${fmtMinutes((new Date(pending.deadline) - Date.now()) / 60000)} left)`) : "",
      next ? el("div", { class: "steps" }, el("button", { type: "button", onclick: () => step(t, next[0]) }, next[1])) : ""));
  }
  $("visits").replaceChildren(...(items.length ? items : [el("li", {}, "No open visit. Enjoy the quiet.")]));
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
