// Wires the views together: pickers, search, the selected call's details, keyboard.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const source = SP.source();
  const view = { ready: false, errors: [] };
  window.scopeprofView = view; // for the browser tests and the curious

  const status = (text) => { $("status").textContent = text; };
  const timeline = new SP.Timeline({ overview: $("overview"), axis: $("axis"), canvas: $("timeline"),
    wrap: $("timeline-wrap"), tooltip: $("tooltip") }, source, { onSelect: showCall, onStatus: status });
  const flame = new SP.Flame($("flame"), $("tooltip"), { onPick: (site) => pickSite(site, "flame") });
  const table = new SP.FunctionTable($("functions"), $("filter"), {
    onPick: (site) => pickSite(site, "table"), onJump: jumpToLongest });
  Object.assign(view, { timeline, flame, table, source });

  let run = null, threads = [];

  async function loadRuns() {
    const { default: initial, runs } = await source.runs();
    $("run").innerHTML = runs.map((r) => `<option value="${r.id}">${SP.escape(r.name)} (${SP.duration(r.duration)})</option>`).join("");
    $("run").value = initial;
    await loadRun(initial);
  }

  async function loadRun(id) {
    run = await source.run(id);
    threads = [];
    for (const p of run.processes) for (const t of p.threads) threads.push({ process: p, thread: t });
    $("threads").innerHTML = run.processes.map((p) =>
      `<fieldset><legend><label><input type="checkbox" data-process="${p.id}" checked> ${SP.escape(p.name)} (pid ${p.pid}${p.ppid ? ", parent " + p.ppid : ""})</label></legend>` +
      p.threads.map((t) => `<label class="thread"><input type="checkbox" data-thread="${t.id}" checked> ${SP.escape(t.name || "thread")} (tid ${t.tid}) · ${SP.count(t.calls)} calls</label>`).join("") +
      "</fieldset>").join("");
    $("flame-thread").innerHTML = `<option value="0">all threads</option>` + threads.map(({ process, thread }) =>
      `<option value="${thread.id}">${SP.escape(process.name)} ${process.pid} · ${SP.escape(thread.name || "thread")} ${thread.tid}</option>`).join("");
    $("summary").textContent = `${SP.count(run.calls)} calls · ${SP.duration(run.duration)} · ${threads.length} threads in ${run.processes.length} processes`;
    timeline.setRun(run, shownLanes());
    search($("search").value); // the same names, this run's sites
    await Promise.all([loadFlame(), loadFunctions(), timeline.idle()]);
  }

  function shownLanes() {
    const on = new Set([...$("threads").querySelectorAll("input[data-thread]:checked")].map((c) => +c.dataset.thread));
    return threads.filter((l) => on.has(l.thread.id));
  }

  async function loadFlame() {
    const thread = +$("flame-thread").value;
    flame.setData(await source.flame(run.id, thread), run.sites);
    flame.highlight(currentSites);
  }

  async function loadFunctions() {
    table.setData(await source.functions(run.id, +$("flame-thread").value), run.sites);
  }

  // Search: every function whose name contains the text is highlighted in all views.
  let currentSites = null;
  function search(text) {
    const needle = text.trim().toLowerCase();
    currentSites = null;
    if (needle) {
      currentSites = new Set();
      for (const [id, s] of Object.entries(run.sites)) if (s[0].toLowerCase().includes(needle)) currentSites.add(+id);
    }
    $("search-count").textContent = currentSites ? `${currentSites.size} function${currentSites.size === 1 ? "" : "s"}` : "";
    timeline.highlight(currentSites);
    flame.highlight(currentSites);
  }

  function pickSite(site, from) {
    const name = run.sites[site] ? run.sites[site][0] : "";
    $("search").value = name;
    search(name);
    currentSites = new Set([site]);
    $("search-count").textContent = "1 function";
    timeline.highlight(currentSites);
    flame.highlight(currentSites);
    if (from !== "table") table.select(site);
  }

  // The longest call of the highlighted functions, zoomed to and selected.
  async function jumpToLongest(site) {
    const sites = site !== undefined ? [site] : currentSites ? [...currentSites] : [];
    if (!sites.length) return;
    const call = await source.longest(run.id, sites.slice(0, 200));
    if (!call) return status("no recorded call of that function");
    timeline.reveal(call.thread);
    timeline.zoomTo(call.start, call.elapsed);
    await timeline.idle();
    const t = timeline.slices && timeline.slices.threads.get(call.thread);
    const row = t && t.rows.find((r) => r[5] === call.id);
    const lane = timeline.lanes.find((l) => l.thread.id === call.thread);
    if (row && lane) timeline.select({ lane, row, thread: lane.thread });
  }

  async function showCall(box) {
    const panel = $("details");
    if (!box) { panel.hidden = true; return; }
    table.select(box.row[3]);
    const c = await source.call(box.row[5]);
    const s = timeline.site(c.site), span = timeline.to - timeline.from;
    const frames = c.path.map(([id, site, start, duration]) =>
      `<li><button class="link" data-start="${start}" data-duration="${duration}">${SP.escape(timeline.site(site).name)}</button> <span class="dim">${SP.duration(duration)}</span></li>`).join("");
    const merged = box.row[4] > 1 ? `<p class="note">${SP.count(box.row[4])} calls are merged in this box; this is the longest.</p>` : "";
    panel.innerHTML = `<button id="close-details" aria-label="Close details">×</button>
      <h2>${SP.escape(s.name)}</h2><p class="dim">${SP.escape(s.file)}:${s.line} · ${SP.escape(box.lane.process.name)} (pid ${box.lane.process.pid}) · ${SP.escape(box.thread.name || "thread")} (tid ${box.thread.tid})</p>${merged}
      <table class="facts"><tr><th>start</th><td>${SP.time(c.start, span / 1000)}</td></tr><tr><th>duration</th><td>${SP.duration(c.duration)}</td></tr>
      <tr><th>self</th><td>${SP.duration(c.self)}</td></tr>${c.cpu !== null ? `<tr><th>CPU</th><td>${SP.duration(c.cpu)}</td></tr>` : ""}<tr><th>depth</th><td>${c.depth}</td></tr></table>
      ${c.broken ? `<p class="error">Broken by <b>${SP.escape(c.error_type || "an exception")}</b>: ${SP.escape(c.error_message || "")}</p>${c.traceback ? `<pre>${SP.escape(c.traceback)}</pre>` : ""}` : ""}
      <h3>Path${c.approximate ? " (from the boxes at this zoom)" : ""}</h3><ol class="path">${frames}<li><b>${SP.escape(s.name)}</b></li></ol>
      <button id="zoom-call">Zoom to this call</button>`;
    panel.hidden = false;
    $("close-details").onclick = () => timeline.select(null);
    $("zoom-call").onclick = () => timeline.zoomTo(c.start, c.elapsed);
    panel.querySelectorAll("button.link").forEach((b) => b.onclick = () => timeline.zoomTo(+b.dataset.start, +b.dataset.duration));
  }

  function showTab(name) {
    document.querySelectorAll("#tabs [role=tab]").forEach((b) => b.setAttribute("aria-selected", b.dataset.tab === name));
    $("flame-wrap").hidden = name !== "flame";
    $("functions-wrap").hidden = name !== "functions";
    if (name === "flame") flame.draw();
  }

  $("run").addEventListener("change", () => loadRun(+$("run").value));
  $("threads").addEventListener("change", (e) => {
    if (e.target.dataset.process)
      $("threads").querySelectorAll(`fieldset input[data-thread]`).forEach((c) => {
        if (c.closest("fieldset") === e.target.closest("fieldset")) c.checked = e.target.checked;
      });
    timeline.setLanes(shownLanes());
  });
  $("flame-thread").addEventListener("change", () => { loadFlame(); loadFunctions(); });
  $("search").addEventListener("input", (e) => search(e.target.value));
  $("search").addEventListener("keydown", (e) => {
    if (e.key === "Enter") jumpToLongest();
    if (e.key === "Escape") { e.target.value = ""; search(""); $("timeline").focus(); }
  });
  document.querySelectorAll("#tabs [role=tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("help-button").addEventListener("click", () => $("help").showModal());

  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      w: () => timeline.zoom(0.7), "+": () => timeline.zoom(0.7), "=": () => timeline.zoom(0.7),
      s: () => timeline.zoom(1 / 0.7), "-": () => timeline.zoom(1 / 0.7),
      a: () => timeline.pan(-0.2), ArrowLeft: () => timeline.pan(-0.2),
      d: () => timeline.pan(0.2), ArrowRight: () => timeline.pan(0.2),
      "0": () => timeline.reset(), Home: () => timeline.reset(),
      "/": () => $("search").focus(), f: () => showTab("flame"), t: () => showTab("functions"),
      "?": () => $("help").showModal(), Escape: () => timeline.select(null),
      z: () => timeline.selected && timeline.zoomTo(timeline.selected.row[1], timeline.selected.row[2]),
    };
    const action = keys[e.key];
    if (action) { e.preventDefault(); action(); }
  });

  if (!source.live) {
    $("notice").hidden = false;
    $("notice").textContent = "A saved report: " + source.summary + ".";
  }
  loadRuns().then(() => { view.ready = true; status(""); })
    .catch((e) => { view.errors.push(e.message); status("could not load: " + e.message); });
})();
