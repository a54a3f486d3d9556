// The dispatcher's board: one region now. Data from GET /v1/dispatch/board (polled), every
// decision through the same /v1 routes as any client; the server checks every rule.
import {
  ApiProblem, api, apiAll, el, fmtMinutes, fmtTime, newKey, requirePage, toast, zoneLabel,
} from "./api.js";

const POLL_MS = 15000;
const BEFORE_MIN = 120; // the lanes show 2 h back and 10 h ahead of now
const AHEAD_MIN = 600;
const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626",
  "#65a30d", "#c026d3", "#0d9488", "#ea580c", "#4f46e5"];
const CLOCK_NAMES = { respond: "respond", depart: "depart", arrive: "arrive", fix: "fix" };

const state = {
  region: null, board: null, selected: null, check: null, keys: new Map(),
  map: null, layers: null, fitted: null, plan: null, options: null, asked: null, room: null,
  loadedAt: 0, // this browser's clock when the board was read (countdowns tick from board.now)
};
const $ = (id) => document.getElementById(id);
const zone = () => state.board?.timezone ?? "UTC";
const engineerOf = (id) => state.board?.engineers.find((e) => e.id === id);
const ticketOf = (id) => state.board?.tickets.find((t) => t.id === id);
const colourOf = (engineerId) => {
  const i = state.board.engineers.findIndex((e) => e.id === engineerId);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
};
/** Minutes from the server's now (the board's `now`, moved on by the time since it was
 * read, so a browser whose clock is off still counts down right) until `iso`. */
const minutesLeft = (iso) => (new Date(iso) - new Date(state.board.now) - (Date.now() - state.loadedAt)) / 60000;
const assignmentOf = (ticketId) => state.board?.assignments.find((a) => a.ticket_id === ticketId);

/** A visit as now expected (the server's expected_* times, `dispatch.expected`: pushed
 * behind the work before it as the re-dispatch review reads it; en route, arriving the
 * planned drive after he set off; on site, done when his job's duration says), and how
 * much later than planned it arrives (on site, where the arrival is done: it ends). */
function expectedOf(a) {
  const departs = a.expected_departs_at ?? a.departs_at;
  const arrives = a.expected_arrives_at ?? a.arrives_at;
  const fixes = a.expected_fixes_at ?? a.fixes_at;
  const status = ticketOf(a.ticket_id)?.status;
  const later = (seen, planned) => Math.max(0, Math.round((new Date(seen) - new Date(planned)) / 60000));
  const lateMin = status === "on_site" ? later(fixes, a.fixes_at) : later(arrives, a.arrives_at);
  return { departs, arrives, fixes, lateMin, pushedMin: a.pushed_min ?? 0, status };
}

/** "+35 min behind Li Wei's overrunning job" (or why else the visit is later than planned:
 * not set off, set off late, not arrived by now, his job on site running over). */
function whyLater(a, seen) {
  const engineer = engineerOf(a.engineer_id);
  const name = engineer?.name ?? a.engineer_name ?? `engineer ${a.engineer_id}`;
  if (seen.pushedMin > 0) {
    const work = engineer?.status === "on_site" ? "overrunning job" : "work before it";
    return `+${fmtMinutes(seen.pushedMin)} behind ${name}'s ${work}`;
  }
  const late = `+${fmtMinutes(seen.lateMin)}`;
  if (seen.status === "on_site") return `${late}: ${name}'s job on site runs over`;
  if (seen.status === "en_route") {
    // the server says whether his arrival is overdue (read as arriving now)
    const due = (a.overdue ?? []).includes("arrive");
    return due ? `${late}: ${name} has not arrived yet` : `${late}: ${name} set off late`;
  }
  return `${late}: ${name} has not set off`;
}

/** "arrival at risk: expected 09:42 (+35 min behind Li Wei's overrunning job)" (on site:
 * "fix at risk: expected 12:30 (...)"), or null while the visit keeps its planned times. */
function expectedText(t, a) {
  if (!a) return null;
  const seen = expectedOf(a);
  if (seen.lateMin <= 0) return null;
  const onSite = seen.status === "on_site";
  const clock = t.clocks.find((c) => c.clock === (onSite ? "fix" : "arrive"));
  const noun = onSite ? "fix" : "arrival";
  const word = !clock || clock.event_at ? noun
    : clock.state === "breached" ? `${noun} breached` : clock.state === "at_risk" ? `${noun} at risk` : noun;
  return `${word}: expected ${fmtTime(onSite ? seen.fixes : seen.arrives, zone())} (${whyLater(a, seen)})`;
}

/** The pending clock that runs out first (the one a countdown shows), or null. */
function nextClock(ticket) {
  const pending = ticket.clocks.filter((c) => !c.event_at && c.state !== "void" && c.state !== "met");
  pending.sort((a, b) => new Date(a.deadline) - new Date(b.deadline));
  return pending[0] ?? null;
}

/** "arrive in 25 min" or, when the server read the clock overdue (`clock.overdue`, at the
 * board's now), "arrive 5 min late": the page never decides lateness by its own clock;
 * the minutes tick between reads, held at 0 until the next read says the clock is late. */
function countdownText(name, deadline, overdue) {
  const left = minutesLeft(deadline);
  return overdue ? `${name} ${fmtMinutes(Math.max(0, -left))} late` : `${name} in ${fmtMinutes(Math.max(0, left))}`;
}

function countdown(clock) {
  if (!clock) return el("span", { class: "countdown" }, "—");
  const cls = clock.overdue ? "countdown late" : clock.state === "at_risk" ? "countdown risk" : "countdown";
  return el("span", {
    class: cls, "data-deadline": clock.deadline, "data-clock": clock.clock,
    "data-overdue": clock.overdue ? "true" : "false",
  }, countdownText(CLOCK_NAMES[clock.clock], clock.deadline, clock.overdue));
}

function refreshCountdowns() {
  for (const node of document.querySelectorAll(".countdown[data-deadline]")) {
    const overdue = node.dataset.overdue === "true";
    node.textContent = countdownText(CLOCK_NAMES[node.dataset.clock], node.dataset.deadline, overdue);
    node.classList.toggle("late", overdue);
  }
  if (state.board) $("clock").textContent = fmtTime(new Date().toISOString(), zone());
}

// -- loading -------------------------------------------------------------------------

async function loadRegions() {
  const regions = await apiAll("/v1/regions");
  const select = $("region");
  select.replaceChildren(...regions.map((r) => el("option", { value: r.id }, `${r.name} (${r.code})`)));
  const wanted = new URLSearchParams(location.search).get("region")
    ?? sessionStorage.getItem("spares.region") ?? String(regions[0]?.id ?? "");
  select.value = regions.some((r) => String(r.id) === wanted) ? wanted : String(regions[0]?.id);
  select.addEventListener("change", () => {
    sessionStorage.setItem("spares.region", select.value);
    state.selected = null;
    state.check = null;
    load();
  });
}

async function load() {
  const region = $("region").value;
  try {
    const [board, moves] = await Promise.all([
      api(`/v1/dispatch/board?region_id=${region}`),
      // stored proposals of the region (the worker's tick); a hint: the board works without
      api(`/v1/dispatch/moves?region_id=${region}`).catch(() => []),
    ]);
    state.board = board;
    state.loadedAt = Date.now();
    state.moves = new Map(moves.map((m) => [m.ticket_id, m]));
    state.region = board.region;
    render();
    $("updated").textContent = `↻ ${fmtTime(board.now, zone())}`;
    $("updated").title = `data as of ${fmtTime(board.now, zone())}; refreshed every ${POLL_MS / 1000} s`;
  } catch (problem) {
    toast(`Could not load the board: ${problem.message}`, "error");
  }
}

// -- rendering -----------------------------------------------------------------------

function render() {
  $("zone").textContent = zoneLabel(zone());
  renderKpis();
  renderWorklist();
  renderMap();
  renderLanes();
  if (state.selected !== null) renderPanel();
  refreshCountdowns();
}

function renderKpis() {
  const t = state.board.tickets;
  const count = (risk) => t.filter((x) => x.risk === risk).length;
  const unassigned = t.filter((x) => x.engineer_id === null).length;
  const working = state.board.engineers.filter((e) => !["off_shift", "absent"].includes(e.status)).length;
  $("kpis").replaceChildren(
    el("span", {}, el("b", {}, t.length), " open"),
    el("span", { class: "error" }, el("b", {}, count("breached")), " breached"),
    el("span", {}, el("b", {}, count("at_risk")), " at risk"),
    el("span", {}, el("b", {}, unassigned), " unassigned"),
    // "at work", not "engineers working": the bar keeps one line at a laptop's 1280 px.
    el("span", { title: "engineers on shift or on a job, of the region's" }, el("b", {}, working), `/${state.board.engineers.length} at work`),
  );
}

function worklistTickets() {
  const rank = { breached: 0, at_risk: 1, on_time: 2 };
  return state.board.tickets
    .filter((t) => t.risk !== "on_time" || t.engineer_id === null || state.moves?.has(t.id))
    .sort((a, b) => (rank[a.risk] - rank[b.risk])
      || (new Date(nextClock(a)?.deadline ?? 8.64e15) - new Date(nextClock(b)?.deadline ?? 8.64e15)));
}

const CANVAS_ABOVE = 400; // markers drawn on a canvas past this many
const LABELLED = 40; // fewer markers than this carry their label on the map
const SHOWN = 200; // a long list is cut: the rest are counted, the most urgent are first

function renderWorklist() {
  const items = worklistTickets();
  const list = $("worklist");
  list.replaceChildren(...items.slice(0, SHOWN).map((t) => {
    const who = t.engineer_id === null ? "unassigned" : (engineerOf(t.engineer_id)?.name ?? "assigned");
    return el("li", {
      class: t.risk, draggable: "true", "data-ticket": t.id,
      "aria-selected": String(state.selected === t.id),
      ondragstart: (e) => { e.dataTransfer.setData("text/x-ticket", String(t.id)); e.dataTransfer.effectAllowed = "move"; },
    },
    el("div", { class: "row" },
      el("button", { type: "button", class: "open", onclick: () => select(t.id),
        "aria-label": `Open ticket ${t.code}, ${t.risk.replace("_", " ")}` }, t.code),
      el("span", { class: `pill ${t.risk}` }, t.risk.replace("_", " "))),
    el("div", { class: "row small" }, el("span", {}, `${t.severity} · ${t.site_name}`), countdown(nextClock(t))),
    el("div", { class: "small muted" }, `${t.status.replace("_", " ")} · ${who}`),
    pushedLine(t),
    moveItem(state.moves?.get(t.id)));
  }));
  if (items.length > SHOWN) list.append(el("li", { class: "muted" }, `${items.length - SHOWN} more…`));
  if (!items.length) list.append(el("li", { class: "muted" }, "Nothing at risk or unassigned."));
}

function pushedLine(t) {
  const text = expectedText(t, assignmentOf(t.id));
  return text ? el("div", { class: `small pushed ${t.risk}` }, text) : "";
}

function renderMap() {
  if (!state.map) {
    // SVG (markers are elements, tests can find them) unless the region is large: canvas.
    const many = state.board.tickets.length + state.board.engineers.length > CANVAS_ABOVE;
    state.map = L.map("map", { preferCanvas: many, attributionControl: false, zoomSnap: 0.25 });
    state.layers = L.layerGroup().addTo(state.map);
    L.control.scale({ imperial: false }).addTo(state.map);
    state.map.on("zoomend moveend resize", declutter);
  }
  const b = state.board;
  state.layers.clearLayers();
  const points = [];
  for (const route of routes()) {
    L.polyline(route.points, { color: route.colour, weight: 3, opacity: 0.8, className: "route" })
      .bindTooltip(`${route.engineer.name}'s route`).addTo(state.layers);
  }
  for (const d of b.depots) {
    if (d.lat === null) continue;
    points.push([d.lat, d.lon]);
    L.marker([d.lat, d.lon], { icon: L.divIcon({ className: "depot-icon", iconSize: [12, 12] }),
      keyboard: false }).bindTooltip(`Depot ${d.code}: ${d.name}`).addTo(state.layers);
  }
  for (const e of b.engineers) {
    points.push([e.lat, e.lon]);
    L.circleMarker([e.lat, e.lon], {
      radius: 6, color: colourOf(e.id), weight: 3, className: "engineer-marker", fillColor: ["off_shift", "absent"].includes(e.status) ? "#d1d5db" : "#fff",
      fillOpacity: 1,
    }).bindTooltip(b.engineers.length <= LABELLED ? e.name : `${e.name} · ${e.status.replace("_", " ")}${e.position_at ? "" : " (at home)"}`,
      { permanent: b.engineers.length <= LABELLED, direction: "left", offset: [-8, 0], className: "map-label engineer-label" })
      .on("mouseover", uncrowd).on("mouseout", declutter).addTo(state.layers);
  }
  const fill = { breached: "#b91c1c", at_risk: "#d97706", on_time: "#15803d" };
  const onTop = { on_time: 0, at_risk: 1, breached: 2 }; // the most urgent drawn last, on top
  for (const t of [...b.tickets].sort((x, y) => onTop[x.risk] - onTop[y.risk])) {
    points.push([t.lat, t.lon]);
    L.circleMarker([t.lat, t.lon], {
      radius: state.selected === t.id ? 10 : 7, color: "#111827", weight: state.selected === t.id ? 3 : 1,
      fillColor: fill[t.risk], fillOpacity: 0.9, className: `ticket-marker ${t.risk}`,
    }).bindTooltip(b.tickets.length <= LABELLED ? t.code : `${t.code} · ${t.risk.replace("_", " ")} · ${t.site_name}`,
      { permanent: b.tickets.length <= LABELLED, direction: "right", offset: [8, 0], className: "map-label ticket-label" })
      .on("click", () => select(t.id)).on("mouseover", uncrowd).on("mouseout", declutter)
      .addTo(state.layers);
  }
  if (state.fitted !== b.region.id) {
    state.fitted = b.region.id;
    if (points.length) state.map.fitBounds(L.latLngBounds(points).pad(0.3));
    else state.map.setView([b.region.lat, b.region.lon], 10);
  }
  state.map.invalidateSize();
  requestAnimationFrame(declutter); // after the layout settles: labels are placed by then
}

/**
 * Hide permanent map labels that would cover one already shown (tickets first, the most urgent
 * first: they are what a dispatcher acts on); a hidden label shows while its marker is hovered
 * or once zooming sets the markers apart.
 */
function declutter() {
  // a removed label fades out for 200 ms at opacity 0 before it leaves the page: not a label
  const all = [...document.querySelectorAll("#map .leaflet-tooltip.map-label")]
    .filter((l) => l.style.opacity !== "0");
  const tickets = all.filter((l) => l.classList.contains("ticket-label")).reverse(); // on top first
  const labels = [...tickets, ...all.filter((l) => !l.classList.contains("ticket-label"))];
  const shown = [];
  for (const label of labels) {
    label.classList.remove("crowded");
    const r = label.getBoundingClientRect();
    const clash = shown.some((s) => r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom);
    if (clash) label.classList.add("crowded");
    else shown.push(r);
  }
}

/** Show a hovered marker's label even where `declutter` hid it. */
function uncrowd(event) {
  event.target.getTooltip()?.getElement()?.classList.remove("crowded");
}

/** Each engineer's active assignments in arrival order, as map polylines. */
function routes() {
  const byEngineer = new Map();
  for (const a of state.board.assignments) {
    if (!byEngineer.has(a.engineer_id)) byEngineer.set(a.engineer_id, []);
    byEngineer.get(a.engineer_id).push(a);
  }
  const depots = new Map(state.board.depots.map((d) => [d.id, d]));
  const out = [];
  for (const [id, list] of byEngineer) {
    const engineer = engineerOf(id);
    if (!engineer) continue;
    const points = [[engineer.lat, engineer.lon]];
    for (const a of list.sort((x, y) => new Date(x.arrives_at) - new Date(y.arrives_at))) {
      const depot = a.parts_source === "pickup" ? depots.get(a.depot_id) : null;
      if (depot && depot.lat !== null) points.push([depot.lat, depot.lon]);
      const t = ticketOf(a.ticket_id);
      if (t) points.push([t.lat, t.lon]);
    }
    if (points.length > 1) out.push({ engineer, points, colour: colourOf(id) });
  }
  return out;
}

function renderLanes() {
  const now = Date.now();
  const start = now - BEFORE_MIN * 60000;
  const span = (BEFORE_MIN + AHEAD_MIN) * 60000;
  const x = (iso) => Math.min(100, Math.max(0, ((new Date(iso) - start) / span) * 100));
  const w = (a, b) => Math.max(0, x(b) - x(a));
  const ticks = [];
  const first = Math.ceil(start / 3600000) * 3600000;
  for (let t = first; t < start + span; t += 3600000) {
    const iso = new Date(t).toISOString();
    ticks.push(el("span", { class: "tick", style: `left:${x(iso)}%` }, fmtTime(iso, zone())));
  }
  $("axis").replaceChildren(el("span", { class: "small muted" }, "engineer"), el("div", { class: "track" }, ...ticks));

  const byEngineer = new Map();
  for (const a of state.board.assignments) {
    if (!byEngineer.has(a.engineer_id)) byEngineer.set(a.engineer_id, []);
    byEngineer.get(a.engineer_id).push(a);
  }
  const order = { on_site: 0, en_route: 1, assigned: 2, idle: 3, off_shift: 4, absent: 5 };
  const engineers = [...state.board.engineers].sort((a, b) => (order[a.status] - order[b.status]) || a.id - b.id);
  const nowX = x(new Date(now).toISOString());
  $("lanes").replaceChildren(...engineers.map((e) => {
    const track = el("div", { class: "track", "aria-hidden": "true" });
    for (const win of e.windows) {
      track.append(el("div", { class: "band shift", style: `left:${x(win.start)}%;width:${w(win.start, win.end)}%`,
        title: `shift ${fmtTime(win.start, zone())}–${fmtTime(win.end, zone())}` }));
    }
    let previousEnd = null;
    let previousCode = null;
    const work = (byEngineer.get(e.id) ?? []).sort((p, q) => new Date(p.arrives_at) - new Date(q.arrives_at));
    for (const a of work) {
      const t = ticketOf(a.ticket_id);
      const code = t?.code ?? `#${a.ticket_id}`;
      // drawn where it is now expected (pushed behind an overrun), its plan outlined
      const seen = expectedOf(a);
      // on site: the job as planned from his arrival, then hatched amber while it runs over
      const onSite = seen.status === "on_site";
      const later = seen.lateMin > 0 && !onSite;
      const plannedEnd = onSite ? new Date(Math.max(new Date(a.fixes_at),
        new Date(seen.arrives).getTime() + (new Date(a.fixes_at) - new Date(a.arrives_at)))).toISOString() : null;
      const runsOver = onSite && new Date(seen.fixes) > new Date(plannedEnd);
      const serviceEnd = runsOver ? plannedEnd : seen.fixes;
      if (previousEnd && seen.pushedMin > 0 && new Date(seen.departs) > new Date(previousEnd)) {
        // pushed behind the work before it: that work runs past its planned end until then
        track.append(el("div", { class: "blk overrun", style: `left:${x(previousEnd)}%;width:${w(previousEnd, seen.departs)}%`,
          title: `${previousCode} runs past its planned end ${fmtTime(previousEnd, zone())}: expected to end ${fmtTime(seen.departs, zone())}` }));
      } else if (previousEnd && new Date(seen.departs) > new Date(previousEnd)) {
        track.append(el("div", { class: "blk wait", style: `left:${x(previousEnd)}%;width:${w(previousEnd, seen.departs)}%`,
          title: `waiting ${fmtTime(previousEnd, zone())}–${fmtTime(seen.departs, zone())}` }));
      }
      if (later) {
        track.append(el("div", { class: "blk planned", "data-ticket": a.ticket_id,
          style: `left:${x(a.arrives_at)}%;width:${Math.max(w(a.arrives_at, a.fixes_at), 0.4)}%`,
          title: `${code} as planned: on site ${fmtTime(a.arrives_at, zone())}–${fmtTime(a.fixes_at, zone())}` }));
      }
      track.append(el("div", { class: "blk travel", style: `left:${x(seen.departs)}%;width:${w(seen.departs, seen.arrives)}%`,
        title: `travel to ${code}: ${fmtTime(seen.departs, zone())}–${fmtTime(seen.arrives, zone())}${a.parts_source === "pickup" ? " via depot pickup" : ""}` }));
      const when = later
        ? `expected on site ${fmtTime(seen.arrives, zone())}–${fmtTime(seen.fixes, zone())}, planned ${fmtTime(a.arrives_at, zone())} (${whyLater(a, seen)})`
        : onSite ? `on site since ${fmtTime(seen.arrives, zone())}, planned until ${fmtTime(plannedEnd, zone())}`
        : `on site ${fmtTime(a.arrives_at, zone())}–${fmtTime(a.fixes_at, zone())}`;
      track.append(el("div", {
        class: `blk service${a.pinned ? " pinned" : ""}${later ? " pushed" : ""}`, "data-ticket": a.ticket_id,
        style: `left:${x(seen.arrives)}%;width:${Math.max(w(seen.arrives, serviceEnd), 0.4)}%`,
        title: `${code}: ${when}${a.pinned ? " (pinned)" : ""}`,
        onclick: () => select(a.ticket_id),
      }, later ? `${code} +${seen.lateMin}′` : code));
      if (runsOver) {
        track.append(el("div", { class: "blk overrun", "data-ticket": a.ticket_id,
          style: `left:${x(plannedEnd)}%;width:${w(plannedEnd, seen.fixes)}%`,
          title: `${code} runs past its planned end ${fmtTime(plannedEnd, zone())}: expected to end ${fmtTime(seen.fixes, zone())}` }));
      }
      const arrive = t?.clocks.find((c) => c.clock === "arrive");
      if (arrive && new Date(seen.arrives) > new Date(arrive.deadline)) {
        track.append(el("div", { class: "blk late", style: `left:${x(arrive.deadline)}%;width:${w(arrive.deadline, seen.arrives)}%`,
          title: `${code} arrives ${fmtMinutes((new Date(seen.arrives) - new Date(arrive.deadline)) / 60000)} after its promise` }));
      }
      for (const [lo, hi] of outside(e.windows, seen.departs, seen.fixes)) {
        track.prepend(el("div", { class: "band overtime", style: `left:${x(lo)}%;width:${w(lo, hi)}%;background:var(--overtime)`,
          title: "outside his shift: overtime" }));
      }
      previousEnd = seen.fixes;
      previousCode = code;
    }
    track.append(el("div", { class: "now", style: `left:${nowX}%` }));
    const lane = el("div", {
      class: "lane", role: "listitem", "data-engineer": e.id,
      "aria-label": `${e.name}, ${e.status.replace("_", " ")}, ${work.length} visits`,
      ondragover: (ev) => { ev.preventDefault(); lane.classList.add("drop-ok"); },
      ondragleave: () => lane.classList.remove("drop-ok"),
      ondrop: (ev) => {
        ev.preventDefault();
        lane.classList.remove("drop-ok");
        const id = Number(ev.dataTransfer.getData("text/x-ticket"));
        if (id) checkEngineer(id, e.id);
      },
    },
    el("div", { class: "who", title: `${e.name} (${e.code})` },
      el("span", { style: `color:${colourOf(e.id)}` }, "● "), e.name,
      el("span", { class: "st" }, `${e.status.replace("_", " ")} · ${work.length} visit${work.length === 1 ? "" : "s"}`)),
    track);
    return lane;
  }));
}

/** The parts of [from, to) outside the working windows (overtime). */
function outside(windows, from, to) {
  let pieces = [[new Date(from).getTime(), new Date(to).getTime()]];
  for (const win of windows) {
    const ws = new Date(win.start).getTime();
    const we = new Date(win.end).getTime();
    pieces = pieces.flatMap(([lo, hi]) => {
      if (we <= lo || ws >= hi) return [[lo, hi]];
      const out = [];
      if (lo < ws) out.push([lo, ws]);
      if (we < hi) out.push([we, hi]);
      return out;
    });
  }
  return pieces.filter(([lo, hi]) => hi > lo).map(([lo, hi]) => [new Date(lo).toISOString(), new Date(hi).toISOString()]);
}

// -- the ticket panel ----------------------------------------------------------------

function select(ticketId) {
  if (state.selected !== ticketId) { state.check = null; state.options = null; state.asked = null; state.room = null; }
  state.selected = ticketId;
  renderWorklist();
  renderMap();
  renderPanel();
  refreshCountdowns();
  const t = ticketOf(ticketId);
  if (t && ["new", "responded"].includes(t.status) && state.options === null) loadOptions(ticketId);
}

function renderPanel() {
  const t = ticketOf(state.selected);
  const body = $("panel-body");
  if (!t) {
    body.replaceChildren(el("p", { class: "muted" }, "That ticket is no longer open."));
    return;
  }
  $("panel-title").textContent = `Ticket ${t.code}`;
  const parts = [
    el("p", {}, el("span", { class: `pill ${t.risk}` }, t.risk.replace("_", " ")), " ",
      `${t.severity} · ${t.status.replace("_", " ")} · ${t.site_name}`),
    el("table", { "aria-label": "Promise clocks" },
      el("thead", {}, el("tr", {}, el("th", {}, "clock"), el("th", {}, "deadline"), el("th", {}, "state"), el("th", {}, "left"))),
      el("tbody", {}, ...t.clocks.map((c) => el("tr", {},
        el("td", {}, c.clock), el("td", {}, fmtTime(c.deadline, zone(), { withDate: true })),
        el("td", {}, el("span", { class: `pill ${c.state}` }, c.state.replace("_", " "))),
        el("td", {}, c.event_at ? `done ${fmtTime(c.event_at, zone())}` : countdown(c))))),
      ...expectedFoot(t)),
  ];
  if (state.check) parts.push(renderCheck(state.check));
  const a = assignmentOf(t.id);
  if (a) {
    const engineer = engineerOf(a.engineer_id);
    const seen = expectedOf(a);
    const was = (expected, planned) => (seen.lateMin > 0
      ? `${fmtTime(expected, zone())} (planned ${fmtTime(planned, zone())})` : fmtTime(planned, zone()));
    parts.push(el("h3", {}, "Assigned"),
      el("p", {}, `${engineer?.name ?? a.engineer_id}: leaves ${was(seen.departs, a.departs_at)}, arrives ${was(seen.arrives, a.arrives_at)}, done ${was(seen.fixes, a.fixes_at)}; parts: ${a.parts_source}`),
      el("button", { type: "button", class: "secondary", onclick: () => pin(a, !a.pinned) },
        a.pinned ? "Unpin (let re-plans move it)" : "Pin to this engineer"));
  }
  if (["new", "responded"].includes(t.status)) parts.push(renderOptions(t));
  body.replaceChildren(...parts);
}

/** The clock table's foot: the arrival (on site: the fix) as now expected, when later than
 * planned. */
function expectedFoot(t) {
  const text = expectedText(t, assignmentOf(t.id));
  if (!text) return [];
  return [el("tfoot", {}, el("tr", {}, el("td", { colspan: "4", class: `pushed ${t.risk}` }, text)))];
}

// How an option breaks its promises, as the CLI says it: how many clocks, and the worst
// lateness (never a sum of minutes across clocks: each clock is its own promise).
function brokenText(o) {
  const missed = o.promises.filter((p) => !p.kept);
  if (!missed.length) return "keeps every promise";
  const worst = Math.max(...missed.map((p) => -p.slack_min));
  return `${missed.length} missed, worst ${fmtMinutes(worst)} late`;
}

function renderCheck(check) {
  const e = engineerOf(check.engineer_id);
  if (check.allowed) {
    const o = check.option;
    return el("div", { class: "check ok", role: "status" },
      el("b", {}, `${e?.name ?? check.engineer_id} can take it: `),
      `arrives ${fmtTime(o.arrives_at, zone())}, ${brokenText(o)}, parts: ${o.parts.source}. `,
      el("button", { type: "button", onclick: () => confirm(check.ticket_id, check.engineer_id) }, `Confirm ${e?.name ?? ""}`),
      " ", el("button", { type: "button", class: "secondary", onclick: () => { state.check = null; renderPanel(); } }, "Cancel"));
  }
  return el("div", { class: "check no", role: "alert" },
    el("b", {}, `Refused: ${e?.name ?? check.engineer_id} cannot take this ticket. `),
    check.excluded ? `${check.excluded.reason}: ${check.excluded.detail}` : check.refusal);
}

function renderOptions(t) {
  const box = el("section", { "aria-label": "Who can take this" }, el("h3", {}, "Who can take this"));
  const engineers = el("select", { id: "check-engineer", "aria-label": "Engineer to check" },
    ...state.board.engineers.map((e) => el("option", { value: e.id }, `${e.name} (${e.status.replace("_", " ")})`)));
  box.append(el("div", { class: "row" }, engineers,
    el("button", { type: "button", class: "secondary", onclick: () => checkEngineer(t.id, Number(engineers.value)) }, "Check")));
  if (state.options === null) { box.append(el("p", { class: "muted" }, "Ranking the engineers…")); return box; }
  if (state.options instanceof Error) { box.append(el("p", { class: "error" }, state.options.message)); return box; }
  const rec = state.options;
  if (!rec.options.length) box.append(el("p", { class: "error" }, "Nobody can take it now."));
  box.append(renderRoom(t));
  box.append(el("ol", { class: "options" }, ...rec.options.map((o) => el("li", {},
    el("div", { class: "head" }, el("b", {}, `${o.rank}. ${o.engineer_name}`),
      el("span", { class: `pill ${o.keeps_all_promises ? "ok" : "late"}` }, o.keeps_all_promises ? "keeps promises" : brokenText(o)),
      o.kind === "call_out" ? el("span", { class: "pill late" }, `call-out, CNY ${Math.round(o.callout_cost)}`) : ""),
    el("div", { class: "small" }, `leaves ${fmtTime(o.departs_at, zone())} · arrives ${fmtTime(o.arrives_at, zone())} · done ${fmtTime(o.fixes_at, zone())} · ${Math.round(o.travel_min)} min drive · parts: ${o.parts.source}${o.parts.depot_name ? ` (${o.parts.depot_name})` : ""}`),
    el("div", { class: "small" }, o.promises.map(pricedLine).join(" · "), ` · cost CNY ${fmtCny(o.cost)}`),
    el("details", { class: "small muted why" }, el("summary", {}, `Why #${o.rank}`), o.reason),
    el("button", { type: "button", onclick: () => confirm(t.id, o.engineer_id), "aria-label": `Confirm ${o.engineer_name} for ${t.code}` }, "Confirm")))));
  if (rec.excluded?.length) {
    box.append(el("details", {}, el("summary", {}, `${rec.excluded.length} left out, and why`),
      el("ul", { class: "small" }, ...rec.excluded.map((x) => el("li", {}, `${x.engineer_name}: ${x.reason} (${x.detail})`)))));
  }
  // Those the search stopped before: one group, unpriced; "Price" asks for one by id.
  if (rec.unreached) {
    box.append(el("details", { class: "unreached" }, el("summary", {}, `${rec.unreached.count} not priced, and why`),
      el("p", { class: "small muted" }, rec.unreached.detail),
      el("ul", { class: "small" }, ...rec.unreached.engineers.map((x) => el("li", {},
        `${x.engineer_name}: ${Math.round(x.travel_min)} min drive `,
        el("button", { type: "button", class: "secondary", onclick: () => priceEngineer(t.id, x.engineer_id), "aria-label": `Price ${x.engineer_name}` }, "Price"))))));
  }
  if (state.asked && state.asked.ticket_id === t.id) box.append(renderAsked(state.asked.asked));
  return box;
}

// An engineer priced on request (engineer_id): his plan in full, or why he has none.
function renderAsked(asked) {
  const o = asked.option;
  if (!o) {
    return el("div", { class: "check no", role: "status" }, el("b", {}, `${asked.engineer_name}: `),
      `${asked.excluded.reason} (${asked.excluded.detail})`);
  }
  return el("div", { class: "check ok", role: "status" }, el("b", {}, `${asked.engineer_name}, priced: `),
    `leaves ${fmtTime(o.departs_at, zone())} · arrives ${fmtTime(o.arrives_at, zone())} · ${brokenText(o)} · CNY ${Math.round(o.cost)} · parts: ${o.parts.source}`,
    el("div", { class: "small muted" }, o.reason));
}

async function priceEngineer(ticketId, engineerId) {
  try {
    const rec = await api("/v1/dispatch/recommendations", { method: "POST", body: { ticket_id: ticketId, limit: 1, explain: false, engineer_id: engineerId } });
    state.asked = { ticket_id: ticketId, asked: rec.asked };
  } catch (problem) {
    toast(problem.message, "error");
  }
  if (state.selected === ticketId) renderPanel();
}

async function loadOptions(ticketId) {
  try {
    state.options = await api("/v1/dispatch/recommendations", { method: "POST", body: { ticket_id: ticketId, limit: 5, explain: true } });
  } catch (problem) {
    state.options = problem;
  }
  if (state.selected === ticketId) renderPanel();
  const best = state.options?.options?.[0];
  if (best && !keepsArrival(best)) loadRoom(ticketId);
}

const keepsArrival = (o) => o.promises.every((p) => p.promise !== "arrival" || p.kept);

// When every option breaks the arrival: could a nearby engineer's next visit go to a
// colleague who keeps it, so he takes this ticket in time? Or else an engineer driving to
// a visit be diverted here first, that visit going to a colleague or staying with him after
// (kind "divert")? (GET .../room, issue 16.)
async function loadRoom(ticketId) {
  try {
    const room = await api(`/v1/dispatch/tickets/${ticketId}/room`);
    if (state.selected === ticketId) { state.room = room && { ...room, ticket_id: ticketId }; renderPanel(); }
  } catch {
    // No room to offer (or the question failed): the options stand as they are.
  }
}

function renderRoom(t) {
  const r = state.room;
  if (!r || r.ticket_id !== t.id) return "";
  if (r.kind === "divert") {
    const visit = r.moved_to === r.engineer_id ? "stays with him after" : `goes to ${r.moved_to_name}`;
    return el("div", { class: "check ok room", role: "status" },
      el("b", {}, `Divert ${r.engineer_name} `),
      `(driving to ${r.moved_ticket_code}; that visit ${visit}, arrives ${fmtTime(r.moved_arrives_at, zone())}, its promises kept): `,
      `he arrives here ${fmtTime(r.arrives_at, zone())}, in time. `,
      el("button", { type: "button", onclick: () => makeRoom(t.id, r) }, "Divert"));
  }
  return el("div", { class: "check ok room", role: "status" },
    el("b", {}, "Make room: "),
    `${r.moved_to_name} takes ${r.moved_ticket_code} (arrives ${fmtTime(r.moved_arrives_at, zone())}, its promises kept), `,
    `so ${r.engineer_name} leaves ${fmtTime(r.departs_at, zone())} and arrives here ${fmtTime(r.arrives_at, zone())}, in time. `,
    el("button", { type: "button", onclick: () => makeRoom(t.id, r) }, "Make room"));
}

async function makeRoom(ticketId, r) {
  const kind = r.kind || "room";
  const id = `${kind}:${ticketId}:${r.moved_assignment_id}:${r.moved_to}`;
  if (!state.keys.has(id)) state.keys.set(id, newKey(`room-${ticketId}`));
  try {
    await api(`/v1/dispatch/tickets/${ticketId}/room`, { method: "POST", idempotencyKey: state.keys.get(id),
      body: { engineer_id: r.engineer_id, moved_assignment_id: r.moved_assignment_id, moved_to: r.moved_to, kind } });
    const moved = kind === "divert" && r.moved_to === r.engineer_id
      ? `${r.moved_ticket_code} stays with him after` : `${r.moved_ticket_code} moved to ${r.moved_to_name}`;
    toast(`${ticketOf(ticketId)?.code} assigned to ${r.engineer_name}; ${moved}`, "ok");
    state.room = null;
    state.options = null;
    await load();
  } catch (problem) {
    toast(`${kind === "divert" ? "Not diverted" : "Room not made"}: ${problem.message}`, "error");
    state.room = null;
    renderPanel();
  }
}

async function checkEngineer(ticketId, engineerId) {
  state.selected = ticketId;
  state.options = state.options ?? null;
  try {
    state.check = await api("/v1/dispatch/checks", { method: "POST", body: { ticket_id: ticketId, engineer_id: engineerId } });
  } catch (problem) {
    state.check = { ticket_id: ticketId, engineer_id: engineerId, allowed: false, refusal: problem.message };
  }
  select(ticketId);
  const e = engineerOf(engineerId);
  toast(state.check.allowed ? `${e?.name} can take ${ticketOf(ticketId)?.code}: confirm in the panel`
    : `Refused: ${state.check.excluded?.detail ?? state.check.refusal}`, state.check.allowed ? "ok" : "error");
}

async function confirm(ticketId, engineerId) {
  const id = `${ticketId}:${engineerId}`;
  if (!state.keys.has(id)) state.keys.set(id, newKey(`assign-${ticketId}-${engineerId}`));
  try {
    await api("/v1/dispatch/assignments", { method: "POST", body: { ticket_id: ticketId, engineer_id: engineerId }, idempotencyKey: state.keys.get(id) });
    toast(`${ticketOf(ticketId)?.code} assigned to ${engineerOf(engineerId)?.name}`, "ok");
    state.check = null;
    state.options = null;
    await load();
  } catch (problem) {
    toast(`Not assigned: ${problem.message}`, "error");
  }
}

// A proposal of the re-dispatch rule (GET /v1/dispatch/moves): who keeps the promise instead.
function moveItem(move) {
  if (!move) return null;
  const to = engineerOf(move.to_engineer_id)?.name ?? move.to_engineer;  // another region's
  const late = move.late_min > 0 ? ` (${engineerOf(move.from_engineer_id)?.name ?? "the plan"} would be ${move.late_min} min late)` : "";
  return el("div", { class: "row small move" },
    el("span", {}, `move to ${to} keeps the promise${late}`),
    el("button", { type: "button", class: "accept-move", disabled: move.pinned,
      title: move.pinned ? "pinned to its engineer: unpin it first" : "re-dispatch the visit",
      onclick: () => acceptMove(move) }, "Accept"));
}

async function acceptMove(move) {
  const id = `move:${move.assignment_id}:${move.to_engineer_id}`;
  if (!state.keys.has(id)) state.keys.set(id, newKey(`move-${move.assignment_id}-${move.to_engineer_id}`));
  try {
    await api(`/v1/dispatch/moves/${move.assignment_id}/accept`, { method: "POST",
      body: { to_engineer_id: move.to_engineer_id }, idempotencyKey: state.keys.get(id) });
    toast(`${ticketOf(move.ticket_id)?.code} moved to ${engineerOf(move.to_engineer_id)?.name ?? move.to_engineer}`, "ok");
    await load();
  } catch (problem) {
    toast(`Not moved: ${problem.message}`, "error");
  }
}

async function pin(assignment, on) {
  try {
    await api(`/v1/dispatch/assignments/${assignment.id}/${on ? "pin" : "unpin"}`, { method: "POST" });
    toast(on ? "Pinned: re-plans keep it with this engineer" : "Unpinned", "ok");
    await load();
  } catch (problem) {
    toast(problem.message, "error");
  }
}

// -- plans ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function runPlan() {
  const dialog = $("plan-dialog");
  const bar = $("plan-progress");
  $("plan-title").textContent = "Planning the region…";
  $("plan-body").replaceChildren(el("p", {}, "The optimiser routes every open ticket over the engineers on shift."));
  $("plan-publish").hidden = true;
  bar.hidden = false;
  bar.removeAttribute("value");
  dialog.showModal();
  try {
    let answer = await api("/v1/dispatch/plans", { method: "POST", body: { region_id: state.region.id, time_limit_s: 3 } });
    if (answer.kind !== undefined && answer.url) { // a job: poll its progress
      while (!["done", "failed", "cancelled"].includes(answer.status)) {
        bar.value = answer.progress;
        await sleep(1000);
        answer = await api(answer.url);
      }
      if (answer.status !== "done") throw new ApiProblem(500, { detail: answer.error ?? answer.status });
      answer = await api(answer.result_url);
    }
    bar.value = 1;
    await showPlan(answer.id);
  } catch (problem) {
    $("plan-body").replaceChildren(el("p", { class: "error", role: "alert" }, problem.message));
  } finally {
    bar.hidden = true;
  }
}

async function showPlan(planId, extra = []) {
  const [plan, diff] = await Promise.all([api(`/v1/dispatch/plans/${planId}`), api(`/v1/dispatch/plans/${planId}/diff`)]);
  state.plan = plan;
  const k = plan.kpis;
  $("plan-title").textContent = `Draft plan ${plan.id}`;
  const eta = (t) => Math.round(t.eta_change_min ?? 0); // under half a minute is no change to show
  const moved = diff.tickets.filter((t) => t.moved || t.newly_served || t.newly_dropped || eta(t));
  const code = (id) => ticketOf(id)?.code ?? `#${id}`;
  const name = (id) => (id === null ? "nobody" : engineerOf(id)?.name ?? `engineer ${id}`);
  const promisesMade = k.promises.reduce((sum, p) => sum + p.total, 0);
  // a ticket's promises in a plan: every one kept, one or more broken, none made, left out
  const kept = (state) => ({ kept: "all kept", late: "broken", no_promise: "none made", dropped: "left out" })[state] ?? "—";
  $("plan-body").replaceChildren(
    ...extra,
    el("p", {}, `${k.served} served, ${k.dropped} left out; ${k.promises_kept} of ${promisesMade} promises kept (arrival and fix); ${Math.round(k.travel_min)} min travel, ${Math.round(k.overtime_min)} min overtime; quality ${plan.quality}${plan.feasible ? "" : " — NOT feasible"}.`),
    el("h3", {}, diff.against_plan_id ? `Against published plan ${diff.against_plan_id}` : "Against nothing published yet"),
    moved.length ? el("table", { "aria-label": "What publishing changes" },
      el("thead", {}, el("tr", {}, el("th", {}, "ticket"), el("th", {}, "engineer"), el("th", { class: "num" }, "ETA change"), el("th", {}, "promises"))),
      el("tbody", {}, ...moved.map((t) => el("tr", {},
        el("td", {}, code(t.ticket_id)),
        el("td", {}, t.moved ? `${name(t.engineer_before)} → ${name(t.engineer_after)}` : name(t.engineer_after)),
        el("td", { class: "num" }, eta(t) ? fmtMinutes(eta(t)) : "—"),
        el("td", {}, `${kept(t.promise_before)} → ${kept(t.promise_after)}${t.at_risk ? " ⚠" : ""}`)))))
      : el("p", { class: "muted" }, "No change against the published plan."),
    (plan.callouts ?? []).length ? el("details", { open: "" }, el("summary", {}, `${plan.callouts.length} call-out(s) of on-call engineers`),
      el("ul", { class: "small" }, ...plan.callouts.map((c) => el("li", {}, `${code(c.ticket_id)}: call-out of ${name(c.engineer_id)}, CNY ${Math.round(c.callout_cost_minor / 100)}, leaves ${fmtTime(c.departs_at, zone())}`)))) : "",
    plan.dropped.length ? el("details", {}, el("summary", {}, `${plan.dropped.length} left out`),
      el("ul", { class: "small" }, ...plan.dropped.map((d) => el("li", {}, `${code(d.ticket_id)}: ${d.reason} — ${d.detail}`)))) : "",
  );
  $("plan-publish").hidden = plan.stage !== "draft";
}

async function publish() {
  const plan = state.plan;
  try {
    const done = await api(`/v1/dispatch/plans/${plan.id}/publish`, { method: "POST", idempotencyKey: `publish-${plan.id}` });
    toast(`Plan ${plan.id} published: ${done.assigned.length} assigned, ${done.kept.length} kept`, "ok");
    $("plan-dialog").close();
    await load();
  } catch (problem) {
    $("plan-body").prepend(el("p", { class: "error", role: "alert" }, `Not published: ${problem.message}`));
  }
}

// -- disruptions ---------------------------------------------------------------------

function openDisruption() {
  if (!state.board.published_plan_id) {
    toast("Publish a plan first: a disruption re-plans the published plan.", "error");
    return;
  }
  const b = state.board;
  $("d-engineer").replaceChildren(...b.engineers.map((e) => el("option", { value: e.id }, e.name)));
  $("d-ticket").replaceChildren(...b.assignments.map((a) => el("option", { value: a.ticket_id }, `${ticketOf(a.ticket_id)?.code ?? a.ticket_id} (${engineerOf(a.engineer_id)?.name})`)));
  $("d-depot").replaceChildren(...b.depots.map((d) => el("option", { value: d.id }, `${d.code} ${d.name}`)));
  showKind();
  $("disrupt-dialog").showModal();
}

function showKind() {
  const kind = $("d-kind").value;
  for (const node of $("disrupt-form").querySelectorAll("[data-for]")) node.hidden = node.dataset.for !== kind;
}

async function reportDisruption(event) {
  event.preventDefault();
  const kind = $("d-kind").value;
  const body = { kind };
  if (kind === "engineer_absent") body.engineer_id = Number($("d-engineer").value);
  if (kind === "visit_overrun") Object.assign(body, { ticket_id: Number($("d-ticket").value), extra_min: Number($("d-extra").value) });
  if (kind === "part_out") Object.assign(body, { depot_id: Number($("d-depot").value), part_id: Number($("d-part").value) });
  $("disrupt-dialog").close();
  const dialog = $("plan-dialog");
  $("plan-title").textContent = "Re-planning…";
  $("plan-body").replaceChildren();
  $("plan-publish").hidden = true;
  dialog.showModal();
  try {
    const done = await api(`/v1/dispatch/plans/${state.board.published_plan_id}/disruptions`, { method: "POST", body });
    const risk = done.at_risk.length
      ? el("div", { class: "check no" }, el("b", {}, "Promises put at risk: "),
        el("ul", {}, ...done.at_risk.map((r) => el("li", {}, `${r.code}: ${r.why}`))))
      : el("div", { class: "check ok" }, "No promise gets worse.");
    await showPlan(done.plan_id, [el("p", {}, done.cause), risk]);
    load(); // an absence is recorded at once: his lane and the counts change behind the draft
  } catch (problem) {
    $("plan-body").replaceChildren(el("p", { class: "error", role: "alert" }, problem.message));
  }
}

// -- start ---------------------------------------------------------------------------

async function start() {
  if (!requirePage("board")) return;
  $("run-plan").addEventListener("click", runPlan);
  $("plan-publish").addEventListener("click", publish);
  $("plan-close").addEventListener("click", () => $("plan-dialog").close());
  $("disrupt").addEventListener("click", openDisruption);
  $("d-kind").addEventListener("change", showKind);
  $("disrupt-form").addEventListener("submit", reportDisruption);
  $("d-cancel").addEventListener("click", () => $("disrupt-dialog").close());
  await loadRegions();
  await load();
  setInterval(refreshCountdowns, 1000);
  setInterval(() => { if (!document.hidden && !$("plan-dialog").open) load(); }, POLL_MS);
}

start();

/** A promise's line with what breaking it costs: "depart missed, 29 min late, CNY 335". The
 * option's reason (the CLI's sentence, which says the same) stays behind "Why #1". */
function pricedLine(p) {
  return p.kept || !p.cost ? promiseLine(p) : `${promiseLine(p)}, CNY ${fmtCny(p.cost)}`;
}

function fmtCny(amount) { return Math.round(amount).toLocaleString("en"); }

/** "arrival kept (25 min to spare)" or "arrival missed, 25 min late": no negative slack to read. */
function promiseLine(p) {
  if (p.slack_min === null || p.slack_min === undefined) return `${p.promise} ${p.kept ? "kept" : "missed"}`;
  return p.slack_min < 0
    ? `${p.promise} ${p.kept ? "kept" : "missed"}, ${fmtMinutes(-p.slack_min)} late`
    : `${p.promise} ${p.kept ? "kept" : "missed"} (${fmtMinutes(p.slack_min)} to spare)`;
}
