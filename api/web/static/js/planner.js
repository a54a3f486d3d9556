// The planner page: pick an example scenario, adjust it, run it as a job with progress,
// compare the variants (KPIs with intervals) and see the run's charts, served by the API.
import { api, apiObjectUrl, el, requirePage, toast } from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { examples: [], run: null };
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const SHOWN_KPIS = ["tickets", "respond_attainment", "arrive_attainment", "fix_attainment",
  "ship_attainment", "utilisation", "overtime_hours", "travel_km", "stockout_days"];

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
    el("tbody", {}, ...kpis.map((name) => el("tr", {}, el("th", {}, name.replaceAll("_", " ")),
      ...series.map((s) => {
        const k = cell(name, s);
        return el("td", { class: "num" }, k ? `${fmt(k.mean, k.unit)} [${fmt(k.low, k.unit)}, ${fmt(k.high, k.unit)}]` : "—");
      }))))));
}

async function showCharts(job) {
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
  $("charts").replaceChildren(...figures);
}

async function start() {
  if (!requirePage("planner")) return;
  state.examples = await api("/v1/scenarios/examples");
  $("example").replaceChildren(...state.examples.map((e) => el("option", { value: e.file }, e.name)));
  $("example").addEventListener("change", fill);
  $("run-form").addEventListener("submit", run);
  fill();
}

start();
