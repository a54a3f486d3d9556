// The planner page: pick an example scenario, adjust it, run it as a job with progress,
// compare the variants (KPIs with intervals) and see the run's charts, served by the API;
// ask for capacity advice on that scenario (targets, rounds) and see its plan and costs.
import { api, apiObjectUrl, el, requirePage, toast } from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { examples: [], run: null, advice: [] };
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
// The scenario report's KPI names (scenarios.kpis.UNITS): every promise clock, then cost.
const SHOWN_KPIS = ["tickets", "respond_attainment", "depart_attainment", "arrival_attainment",
  "fix_attainment", "swap_2h_attainment", "ship_8h_attainment", "promises_kept", "overtime_h",
  "travel_km", "utilisation", "stockout_days"];
const KPI_LABELS = {
  respond_attainment: "respond kept", depart_attainment: "depart kept",
  arrival_attainment: "arrival kept", fix_attainment: "fix kept",
  swap_2h_attainment: "part swapped within 2 h", ship_8h_attainment: "part shipped within 8 h",
  promises_kept: "every promise kept", overtime_h: "overtime (h)", travel_km: "travel (km)",
  stockout_days: "stock-out days",
};

function fill() {
  const example = state.examples.find((e) => e.file === $("example").value);
  $("example-text").textContent = example.description;
  const doc = structuredClone(example.document);
  $("size").value = doc.base?.size ?? "small";
  $("days").value = doc.horizon_days ?? 1;
  $("reps").value = doc.replications ?? 1;
  $("per-day").value = doc.demand?.tickets_per_day ?? 50;
  $("document").value = JSON.stringify(doc, null, 2);
}

function documentFromForm() {
  const doc = JSON.parse($("document").value);
  doc.base = { ...(doc.base ?? { kind: "demo" }), size: $("size").value };
  doc.horizon_days = Number($("days").value);
  doc.replications = Number($("reps").value);
  doc.demand = { ...(doc.demand ?? {}), tickets_per_day: Number($("per-day").value) };
  return doc;
}

async function run(event) {
  event.preventDefault();
  let doc;
  try { doc = documentFromForm(); } catch (error) { toast(`The document is not JSON: ${error.message}`, "error"); return; }
  const bar = $("run-progress");
  $("kpis").replaceChildren();
  $("charts").replaceChildren();
  try {
    let job = await api("/v1/scenarios/runs", { method: "POST", body: doc });
    bar.hidden = false;
    $("run").disabled = true;
    while (!["done", "failed", "cancelled"].includes(job.status)) {
      bar.value = job.progress;
      $("run-status").replaceChildren(el("p", {}, `Run ${job.id}: ${job.status}, ${Math.round(job.progress * 100)} %`));
      await sleep(1000);
      job = await api(job.url);
    }
    bar.value = 1;
    if (job.status !== "done") throw new Error(job.error ?? job.status);
    $("run-status").replaceChildren(el("p", {}, `Run ${job.id} done${job.partial ? " (partial: interrupted)" : ""}.`));
    state.run = job;
    showKpis(job);
    await showCharts(job);
  } catch (problem) {
    $("run-status").replaceChildren(el("p", { class: "error", role: "alert" }, problem.message));
  } finally {
    bar.hidden = true;
    $("run").disabled = false;
  }
}

function fmt(value, unit) {
  if (value === null || value === undefined) return "—";
  if (unit === "share") return `${(value * 100).toFixed(1)} %`;
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function showKpis(job) {
  const rows = job.kpis.filter((k) => k.scope === "all" && SHOWN_KPIS.includes(k.kpi));
  const series = [...new Set(rows.map((k) => `${k.variant} · ${k.policy}`))];
  const kpis = SHOWN_KPIS.filter((name) => rows.some((k) => k.kpi === name));
  const cell = (name, s) => rows.find((k) => k.kpi === name && `${k.variant} · ${k.policy}` === s);
  $("kpis").replaceChildren(el("table", { "aria-label": "KPIs per variant" },
    el("thead", {}, el("tr", {}, el("th", {}, "KPI"), ...series.map((s) => el("th", { class: "num" }, s)))),
    el("tbody", {}, ...kpis.map((name) => el("tr", {}, el("th", {}, KPI_LABELS[name] ?? name.replaceAll("_", " ")),
      ...series.map((s) => {
        const k = cell(name, s);
        return el("td", { class: "num" }, k ? `${fmt(k.mean, k.unit)} [${fmt(k.low, k.unit)}, ${fmt(k.high, k.unit)}]` : "—");
      }))))));
}

function adviceDocument() {
  const scenario = documentFromForm();
  const scope = $("per-region").checked ? "every_region" : "all";
  const target = (kpi, id) => ({ kpi, share: Number($(id).value) / 100, scope });
  return {
    name: `${scenario.name ?? "planner"}-advice`.replace(/[^A-Za-z0-9_.-]/g, "-"),
    scenario,
    targets: [target("arrival_attainment", "arrival-target"), target("swap_2h_attainment", "swap-target")],
    max_rounds: Number($("rounds").value),
  };
}

function showAdviceRuns() {
  const items = state.advice.map((job) => el("li", { "data-run": String(job.id) },
    `Advice ${job.id} (${job.name ?? ""}): ${job.status}, ${Math.round(job.progress * 100)} %`
    + (job.status === "done" ? (job.reached ? ", every target holds" : ", NOT every target holds") : "")
    + (job.error ? ` — ${job.error}` : "")));
  $("advice-runs").replaceChildren(...items);
}

function remember(job) {
  const at = state.advice.findIndex((j) => j.id === job.id);
  if (at < 0) state.advice.unshift(job); else state.advice[at] = job;
  sessionStorage.setItem("planner.advice", JSON.stringify(state.advice.map((j) => j.url)));
  showAdviceRuns();
}

const interval = (i) => (i ? `${fmt(i.mean, "share")} [${fmt(i.low, "share")}, ${fmt(i.high, "share")}]` : "—");
const money = (text) => (text === null || text === undefined ? "—" : Number(text).toLocaleString("en", { maximumFractionDigits: 0 }));

function showAdvice(job) {
  const columns = [["today", job.today], ["advised", job.advised], ["uniform rule", job.uniform]].filter(([, f]) => f);
  const head = (first) => el("thead", {}, el("tr", {}, el("th", {}, first), ...columns.map(([n]) => el("th", { class: "num" }, n))));
  const saving = job.saving_vs_uniform === null ? "" : `; ${(Number(job.saving_vs_uniform) * 100).toFixed(1)} % below the uniform rule`;
  $("advice-verdict").replaceChildren(el("p", {}, `Advice ${job.id}: ${job.reached ? "every target holds" : "NOT every target holds"}`
    + `, ${money(job.cost_vs_today)} ${job.currency} more than today over ${job.horizon_days} day${job.horizon_days === 1 ? "" : "s"}${saving}.`));
  $("advice-targets").replaceChildren(el("table", { "aria-label": "Targets" }, head("target"),
    el("tbody", {}, ...job.targets.map((t) => el("tr", {},
      el("th", {}, `${t.kpi.replace("_attainment", "").replaceAll("_", " ")} ${t.region ?? "all"} ≥ ${(t.share * 100).toFixed(1)} %`),
      ...columns.map(([, f]) => el("td", { class: "num" }, interval(f.attainment[`${t.kpi}@${t.scope}`]))))))));
  const costRows = ["staff", "overtime", "holding", "courier", "on_call", "callouts", "unsocial", "total"];
  $("advice-costs").replaceChildren(el("table", { "aria-label": "Costs" }, head(`cost (${job.currency})`),
    el("tbody", {}, ...costRows.map((row) => el("tr", {}, el("th", {}, row.replace("_", " ")),
      ...columns.map(([, f]) => el("td", { class: "num" }, money(f.cost[row]))))),
      el("tr", {}, el("th", {}, "engineers"), ...columns.map(([, f]) => el("td", { class: "num" }, String(f.cost.engineers)))))));
  showRegions(job);
  $("advice-plan").replaceChildren(el("table", { "aria-label": "Plan of changes" },
    el("thead", {}, el("tr", {}, ...["round", "move kept", `cost (${job.currency})`, "binding targets"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...(job.steps.length ? job.steps.map((s) => el("tr", {}, el("td", {}, String(s.round)), el("td", {}, s.move),
      el("td", { class: "num" }, money(s.cost_delta)), el("td", {}, s.binding.map((b) => b.replace("_attainment", "").replace("region=", "")).join(", "))))
      : [el("tr", {}, el("td", { colspan: "4", class: "muted" }, "No change kept: today's world is the advice, or no move helped."))]))));
}

const short = (name) => name.replace("_attainment", "").replaceAll("_", " ").replace("@region=", " in ").replace("@all", " overall");

// Per region: engineers and cost today -> advised, each target clock's share kept there,
// which targets bind there (today; "still" when they bind with the advice too) and the moves made there.
function showRegions(job) {
  const regions = job.regions ?? [];
  if (!regions.length) { $("advice-regions").replaceChildren(); return; }
  const kpis = Object.keys(regions[0].attainment);
  const arrow = (a, b) => (a === b ? a : `${a} → ${b}`);
  const share = (x) => (x === null || x === undefined ? "—" : fmt(x, "share"));
  const header = ["region", "engineers", `cost (${job.currency})`, ...kpis.map((k) => `${short(k)} kept`), "binds", "moves kept"];
  const rows = regions.map((r) => el("tr", { "data-region": r.region, class: r.binds_today.length ? "binds" : "" },
    el("th", {}, r.region),
    el("td", { class: "num" }, arrow(String(r.cost_today.engineers), String(r.cost_advised.engineers))),
    el("td", { class: "num" }, arrow(money(r.cost_today.total), money(r.cost_advised.total))),
    ...kpis.map((k) => el("td", { class: "num" }, arrow(share(r.attainment[k].today), share(r.attainment[k].advised)))),
    el("td", {}, r.binds_today.map((b) => short(b) + (r.binds_advised.includes(b) ? " (still)" : "")).join(", ") || "—"),
    el("td", {}, r.moves.join("; ") || "—")));
  $("advice-regions").replaceChildren(el("table", { "aria-label": "By region" },
    el("caption", { class: "small muted" }, "By region: today → advised; holding is not split (stock pools across regions)"),
    el("thead", {}, el("tr", {}, ...header.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)));
}

async function advise(event) {
  event.preventDefault();
  let doc;
  try { doc = adviceDocument(); } catch (error) { toast(`The document is not JSON: ${error.message}`, "error"); return; }
  const bar = $("advice-progress");
  for (const id of ["advice-verdict", "advice-targets", "advice-costs", "advice-regions", "advice-plan", "advice-charts"]) $(id).replaceChildren();
  try {
    let job = await api("/v1/advice/runs", { method: "POST", body: doc });
    bar.hidden = false;
    $("advise").disabled = true;
    while (!["done", "failed", "cancelled"].includes(job.status)) {
      bar.value = job.progress;
      remember(job);
      await sleep(1000);
      job = await api(job.url);
    }
    bar.value = 1;
    remember(job);
    if (job.status !== "done") throw new Error(job.error ?? job.status);
    showAdvice(job);
    await showCharts(job, "advice-charts");
  } catch (problem) {
    $("advice-verdict").replaceChildren(el("p", { class: "error", role: "alert" }, problem.message));
  } finally {
    bar.hidden = true;
    $("advise").disabled = false;
  }
}

async function showCharts(job, into = "charts") {
  const figures = [];
  for (const name of job.charts) {
    try {
      const url = await apiObjectUrl(`${job.url}/charts/${name}`);
      figures.push(el("figure", {}, el("img", { src: url, alt: `${name.replace(".png", "").replaceAll("_", " ")} chart`, class: "chart" }),
        el("figcaption", { class: "small muted" }, name.replace(".png", "").replaceAll("_", " "))));
    } catch (problem) {
      figures.push(el("p", { class: "error" }, `${name}: ${problem.message}`));
    }
  }
  $(into).replaceChildren(...figures);
}

async function start() {
  if (!requirePage("planner")) return;
  state.examples = await api("/v1/scenarios/examples");
  $("example").replaceChildren(...state.examples.map((e) => el("option", { value: e.file }, e.name)));
  $("example").addEventListener("change", fill);
  $("run-form").addEventListener("submit", run);
  $("advise-form").addEventListener("submit", advise);
  fill();
  const urls = JSON.parse(sessionStorage.getItem("planner.advice") ?? "[]");
  for (const url of urls.slice(0, 10)) {
    try { state.advice.push(await api(url)); } catch { /* gone: forget it */ }
  }
  if (state.advice.length) showAdviceRuns();
  const last = state.advice.find((j) => j.status === "done");
  if (last) { showAdvice(last); await showCharts(last, "advice-charts"); }
}

start();
