// The warehouse page: stock per depot and van with search, holds, pick list, shipments due,
// and stock moves (receive, transfer, adjust) with a reason; every write is idempotent.
import { api, apiAll, el, fmtMinutes, fmtTime, newKey, requirePage, toast, zoneLabel } from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { depots: [], zones: new Map(), after: null, pending: null, parts: new Map() };
// Staff read part codes and ticket codes; an id shows only when the list had no code for it.
const code = (text) => el("span", { class: "code" }, text);
const partLabel = (r) => (r.part_sku ? [code(r.part_sku), r.part_name ? ` ${r.part_name}` : ""] : [`part #${r.part_id}`]);
const ticketLabel = (r) => (r.ticket_code ? code(r.ticket_code) : r.ticket_id ? `ticket #${r.ticket_id}` : "—");
const depotOf = (id) => state.depots.find((d) => d.id === id);
const zone = () => {
  const depot = depotOf(Number($("depot").value));
  return state.zones.get(depot?.region_id) ?? state.zones.values().next().value ?? "UTC";
};
const minutesUntil = (iso) => (new Date(iso) - Date.now()) / 60000;

function countdown(iso) {
  const left = minutesUntil(iso);
  return el("span", { class: `countdown${left < 0 ? " late" : left < 60 ? " risk" : ""}`, "data-until": iso },
    left < 0 ? `${fmtMinutes(-left)} late` : `in ${fmtMinutes(left)}`);
}

function tick() {
  for (const node of document.querySelectorAll("[data-until]")) {
    const left = minutesUntil(node.dataset.until);
    node.textContent = left < 0 ? `${fmtMinutes(-left)} late` : `in ${fmtMinutes(left)}`;
    node.classList.toggle("late", left < 0);
  }
}

async function loadStock(more = false) {
  const params = new URLSearchParams({ limit: "100" });
  if ($("depot").value) params.set("depot_id", $("depot").value);
  if ($("q").value.trim()) params.set("q", $("q").value.trim());
  if (more && state.after !== null) params.set("after", state.after);
  const page = await api(`/v1/stock?${params}`);
  state.after = page.next_after;
  for (const r of page.items) state.parts.set(r.part_sku.toUpperCase(), { id: r.part_id, sku: r.part_sku, name: r.part_name });
  $("m-parts").replaceChildren(...[...state.parts.values()].map((p) => el("option", { value: p.sku }, p.name)));
  const rows = page.items.map((r) => el("tr", { "data-part": r.part_id, "data-sku": r.part_sku, title: "Click to move this part" },
    el("td", {}, code(depotOf(r.depot_id)?.code ?? r.depot_id)), el("td", {}, code(r.part_sku)), el("td", {}, r.part_name),
    el("td", { class: "num" }, r.on_hand), el("td", { class: "num" }, r.reserved),
    el("td", { class: `num${r.available < r.reorder_point ? " error" : ""}` }, r.available),
    el("td", { class: "num" }, r.in_transit), el("td", { class: "num" }, r.reorder_point)));
  if (more) $("stock").append(...rows);
  else $("stock").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No stock row matches."))]));
  $("more").hidden = state.after === null;
}

async function loadSide() {
  const depot = $("depot").value;
  const z = zone();
  $("zone").textContent = zoneLabel(z);
  if (!depot) {
    $("picks").replaceChildren(el("p", { class: "muted" }, "Choose a depot for its pick list."));
  } else {
    const picks = await api(`/v1/depots/${depot}/pick-list`);
    $("picks").replaceChildren(picks.length ? el("table", { "aria-label": "Pick list" },
      el("thead", {}, el("tr", {}, el("th", {}, "leaves"), el("th", {}, "engineer"), el("th", {}, "ticket"), el("th", {}, "parts"))),
      el("tbody", {}, ...picks.map((p) => el("tr", {},
        el("td", {}, fmtTime(p.departs_at, z)), el("td", {}, p.engineer_name), el("td", {}, p.ticket_code),
        el("td", {}, p.items.map((r) => `${r.quantity} × ${r.part_sku} ${r.part_name}`).join(", ") || "—")))))
      : el("p", { class: "muted" }, "Nothing to pick."));
  }
  const holdQuery = new URLSearchParams({ status: "reserved", limit: "100" });
  if (depot) holdQuery.set("depot_id", depot);
  const holds = (await api(`/v1/reservations?${holdQuery}`)).items;
  $("holds").replaceChildren(holds.length ? el("table", { "aria-label": "Reservations" },
    el("thead", {}, el("tr", {}, el("th", {}, "depot"), el("th", {}, "part"), el("th", { class: "num" }, "qty"), el("th", {}, "ticket"), el("th", {}, "expires"))),
    el("tbody", {}, ...holds.map((r) => el("tr", {},
      el("td", {}, depotOf(r.depot_id)?.code ?? r.depot_id), el("td", {}, ...partLabel(r)), el("td", { class: "num" }, r.quantity),
      el("td", {}, ticketLabel(r)), el("td", {}, fmtTime(r.expires_at, z), " ", countdown(r.expires_at))))))
    : el("p", { class: "muted" }, "No live reservation."));
  const shipQuery = new URLSearchParams({ status: "pending", limit: "100" });
  if (depot) shipQuery.set("from_depot_id", depot);
  const due = (await api(`/v1/shipments?${shipQuery}`)).items.sort((a, b) => new Date(a.ship_by) - new Date(b.ship_by));
  $("shipments").replaceChildren(due.length ? el("table", { "aria-label": "Shipments due" },
    el("thead", {}, el("tr", {}, el("th", {}, "from"), el("th", {}, "part"), el("th", { class: "num" }, "qty"), el("th", {}, "ticket"), el("th", {}, "ship by"))),
    el("tbody", {}, ...due.map((s) => el("tr", {},
      el("td", {}, depotOf(s.from_depot_id)?.code ?? s.from_depot_id), el("td", {}, ...partLabel(s)), el("td", { class: "num" }, s.quantity),
      el("td", {}, ticketLabel(s)), el("td", {}, fmtTime(s.ship_by, z), " ", countdown(s.ship_by))))))
    : el("p", { class: "muted" }, "Nothing waiting to ship."));
}

function showKind() {
  const kind = $("m-kind").value;
  for (const node of $("move-form").querySelectorAll("[data-for]")) node.hidden = !node.dataset.for.split(" ").includes(kind);
}

// The part typed by its code: known from the stock shown, else asked of the catalogue.
async function partBySku(text) {
  const sku = text.trim().toUpperCase();
  if (!sku) return null;
  if (state.parts.has(sku)) return state.parts.get(sku);
  const found = (await api(`/v1/parts?${new URLSearchParams({ q: text.trim(), limit: "100" })}`)).items
    .find((p) => p.sku.toUpperCase() === sku);
  if (!found) return null;
  const part = { id: found.id, sku: found.sku, name: found.name };
  state.parts.set(sku, part);
  return part;
}

function showPart() {
  const part = state.parts.get($("m-part").value.trim().toUpperCase());
  $("m-part-name").textContent = part ? part.name : "";
}

async function move(event) {
  event.preventDefault();
  const depot = Number($("depot").value);
  if (!depot) { toast("Choose the depot the movement is at first.", "error"); return; }
  const kind = $("m-kind").value;
  const typed = $("m-part").value.trim();
  let found;
  try {
    found = await partBySku(typed);
  } catch (problem) {
    toast(`Not recorded: ${problem.message}`, "error");
    return;
  }
  if (!found) {
    toast(`Not recorded: no part has the code "${typed}". Search the stock or check the code.`, "error");
    $("m-part").focus();
    return;
  }
  $("m-part-name").textContent = found.name;
  const part = found.id;
  const reason = $("m-reason").value.trim();
  const routes = {
    receive: ["/v1/receipts", { depot_id: depot, part_id: part, quantity: Number($("m-qty").value), reason }],
    transfer: ["/v1/transfers", { from_depot_id: depot, to_depot_id: Number($("m-to").value), part_id: part,
      quantity: Number($("m-qty").value), transit_min: Number($("m-transit").value), reason }],
    adjust: ["/v1/adjustments", { depot_id: depot, part_id: part, delta: Number($("m-delta").value), reason }],
  };
  const [path, body] = routes[kind];
  const id = JSON.stringify([path, body]);
  if (state.pending?.id !== id) state.pending = { id, key: newKey(kind) }; // a retry reuses its key
  try {
    await api(path, { method: "POST", body, idempotencyKey: state.pending.key });
    toast(`${kind} of ${found.sku} recorded`, "ok");
    state.pending = null;
    await Promise.all([loadStock(), loadSide()]);
  } catch (problem) {
    toast(`Not recorded: ${problem.message}`, "error");
  }
}

async function start() {
  if (!requirePage("warehouse")) return;
  const [depots, regions] = await Promise.all([apiAll("/v1/depots"), apiAll("/v1/regions")]);
  state.depots = depots;
  for (const r of regions) state.zones.set(r.id, r.timezone);
  const options = depots.map((d) => el("option", { value: d.id }, `${d.code} · ${d.name}${d.kind === "van" ? " (van)" : ""}`));
  $("depot").append(...options);
  $("m-to").replaceChildren(...depots.filter((d) => d.kind !== "van").map((d) => el("option", { value: d.id }, `${d.code} · ${d.name}`)));
  $("depot").addEventListener("change", () => { loadStock(); loadSide(); });
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); loadStock(); });
  $("more").addEventListener("click", () => loadStock(true));
  $("m-kind").addEventListener("change", showKind);
  $("m-part").addEventListener("input", showPart);
  $("stock").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-sku]");
    if (!row) return;
    $("m-part").value = row.dataset.sku;
    showPart();
  });
  $("move-form").addEventListener("submit", move);
  showKind();
  await Promise.all([loadStock(), loadSide()]);
  setInterval(tick, 1000);
  setInterval(() => { if (!document.hidden) loadSide(); }, 30000);
}

start();
