// Where the viewer's data comes from: the server's JSON requests, or the data embedded in a
// single-file report, behind one interface (runs, run, slices, call, flame, functions,
// longest). Views never know which.
"use strict";

SP.bucketNs = (level) => 16000 * Math.pow(4, level - 1);

SP.serverSource = function () {
  async function get(path, params) {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(path + (query ? "?" + query : ""));
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }
  return {
    live: true,
    runs: () => get("/api/runs"),
    run: (run) => get("/api/run", { run }),
    slices: (q) => get("/api/slices", { run: q.run, threads: q.threads.join(","), from: Math.floor(q.from),
      to: Math.ceil(q.to), px: Math.round(q.px), depth: q.depth }),
    call: (id) => get("/api/call", { id }),
    flame: (run, thread) => get("/api/flame", { run, thread }),
    functions: (run, thread) => get("/api/functions", { run, thread }),
    longest: (run, sites) => get("/api/longest", { run, sites: sites.join(",") }),
  };
};

SP.embeddedSource = function (data) {
  const levels = Object.keys(data.levels).map(Number).sort((a, b) => a - b);
  // Rows per level and thread, as the server answered for the whole run.
  const byLevel = new Map();
  for (const level of levels) {
    const threads = new Map();
    for (const t of data.levels[level].threads) threads.set(t.id, t.rows);
    byLevel.set(level, threads);
  }
  const exceptions = {};
  for (const level of levels) Object.assign(exceptions, data.levels[level].exceptions);
  function chooseLevel(pixelNs) {
    let chosen = -1;
    for (const level of levels) if (level >= 1 && SP.bucketNs(level) <= pixelNs) chosen = level;
    if (chosen < 0) chosen = levels[0];
    return chosen;
  }
  function findRow(id) {
    for (const level of levels)
      for (const [thread, rows] of byLevel.get(level))
        for (const row of rows) if (row[5] === id) return { level, thread, row };
    return null;
  }
  const perThread = (thread, what) =>
    thread && data.per_thread[thread] ? data.per_thread[thread][what] : data[what]["0"];
  return {
    live: false,
    summary: data.summary,
    runs: async () => ({ default: data.run.id, runs: [{ id: data.run.id, name: data.run.name, duration: data.run.duration }] }),
    run: async () => data.run,
    slices: async (q) => {
      const level = chooseLevel((q.to - q.from) / q.px);
      const threads = q.threads.map((id) => {
        const rows = (byLevel.get(level).get(id) || []).filter((r) =>
          r[0] <= q.depth && r[1] <= q.to && r[1] + r[2] >= q.from);
        return { id, level, bucket: level ? SP.bucketNs(level) : 0, truncated: false, rows };
      });
      return { from: q.from, to: q.to, threads, exceptions };
    },
    // The call as its box knows it; its path from the boxes around it at the same level.
    call: async (id) => {
      const found = findRow(id);
      if (!found) throw new Error("call " + id + " is not in this file");
      const [depth, start, elapsed, site, , , self, broken, exceptionId] = found.row;
      const rows = byLevel.get(found.level).get(found.thread);
      const path = [];
      for (let d = depth - 1; d >= 0; d--) {
        const up = rows.find((r) => r[0] === d && r[1] <= start && r[1] + r[2] >= start + elapsed);
        if (up) path.unshift([up[5], up[3], up[1], up[2]]);
      }
      const error = broken ? exceptions[exceptionId] : null;
      return { id, run: data.run.id, thread: found.thread, site, start, duration: elapsed, elapsed, self, depth,
        broken: !!broken, cpu: null, self_cpu: null, error_type: error ? error[0] : null,
        error_message: error ? error[1] : null, traceback: null, path, path_skipped: 0,
        approximate: found.level > 0 };
    },
    flame: async (run, thread) => perThread(thread, "flame"),
    functions: async (run, thread) => perThread(thread, "functions"),
    longest: async (run, sites) => {
      const wanted = new Set(sites);
      let best = null;
      for (const [thread, rows] of byLevel.get(levels[0]))
        for (const r of rows)
          if (r[4] === 1 && wanted.has(r[3]) && (!best || r[2] > best.elapsed))
            best = { id: r[5], thread, start: r[1], elapsed: r[2], depth: r[0] };
      return best;
    },
  };
};

SP.source = function () {
  const embedded = document.getElementById("scopeprof-data");
  return embedded ? SP.embeddedSource(JSON.parse(embedded.textContent)) : SP.serverSource();
};
