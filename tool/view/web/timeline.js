// The timeline: an overview strip of the whole run on top, a time axis, and the zoomed view
// with one lane per thread (calls stacked by depth). It draws what the source answers for the
// visible window: merged boxes when zoomed out, every call when zoomed in.
"use strict";

SP.Timeline = class {
  constructor(els, source, events) {
    this.els = els; // overview, axis, canvas, wrap, tooltip
    this.source = source;
    this.events = events; // onSelect(box), onStatus(text)
    this.rowH = 16;
    this.headerH = 18;
    this.maxDepthShown = 48;
    this.lanes = [];
    this.slices = null;
    this.overviewSlices = null;
    this.highlightSites = null;
    this.selected = null;
    this.pending = 0; // window requests in flight (one at a time)
    this.overviewPending = 0;
    this.dirty = false;
    this.waiters = [];
    this.bind();
  }

  setRun(run, lanes) {
    this.run = run;
    this.duration = Math.max(run.duration, 1);
    this.sites = run.sites;
    this.from = 0;
    this.to = this.duration;
    this.selected = null;
    this.setLanes(lanes);
  }

  // lanes: [{process, thread}] in the order shown.
  setLanes(lanes) {
    let top = 0;
    this.lanes = lanes.map((l, index) => {
      const depths = Math.min(l.thread.max_depth + 1, this.maxDepthShown);
      const lane = { ...l, index, top, depths, height: this.headerH + depths * this.rowH + 4 };
      top += lane.height;
      return lane;
    });
    this.height = top;
    this.slices = null;
    if (this.run) {
      this.fetchOverview();
      this.refresh();
    }
  }

  site(id) {
    const s = this.sites[id];
    return s ? { name: s[0], file: s[1], line: s[2] } : { name: "site " + id, file: "", line: 0 };
  }

  setWindow(from, to) {
    const minSpan = 100;
    if (to - from < minSpan) {
      const mid = (from + to) / 2;
      from = mid - minSpan / 2;
      to = mid + minSpan / 2;
    }
    const slack = this.duration * 0.05;
    if (to - from > this.duration + 2 * slack) {
      from = -slack;
      to = this.duration + slack;
    }
    if (from < -slack) { to += -slack - from; from = -slack; }
    if (to > this.duration + slack) { from -= to - this.duration - slack; to = this.duration + slack; }
    this.from = from;
    this.to = to;
    this.draw();
    this.refresh();
  }

  zoom(factor, atFraction = 0.5) {
    const at = this.from + (this.to - this.from) * atFraction;
    this.setWindow(at - (at - this.from) * factor, at + (this.to - at) * factor);
  }

  pan(fraction) {
    const d = (this.to - this.from) * fraction;
    this.setWindow(this.from + d, this.to + d);
  }

  reset() { this.setWindow(0, this.duration); }

  highlight(sites) {
    this.highlightSites = sites && sites.size ? sites : null;
    this.draw();
    this.drawOverview();
  }

  // Resolves once the view shows the answer for the current window.
  idle() {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  width() { return this.els.wrap.clientWidth; }

  async fetchOverview() {
    const threads = this.lanes.map((l) => l.thread.id);
    this.overviewSlices = null;
    if (!threads.length) return this.drawOverview();
    this.overviewPending++;
    try {
      const answer = await this.source.slices({ run: this.run.id, threads, from: 0, to: this.duration,
        px: Math.max(this.els.overview.clientWidth, 100), depth: 2 });
      this.overviewSlices = SP.Timeline.index(answer);
    } catch (e) {
      this.events.onStatus("overview: " + e.message);
    }
    this.overviewPending--;
    this.drawOverview();
    this.settle();
  }

  // Asks for the current window; one request at a time, the latest window wins.
  async refresh() {
    if (!this.run) return;
    if (this.pending > 0) { this.dirty = true; return; }
    const threads = this.lanes.map((l) => l.thread.id);
    if (!threads.length) { this.slices = null; this.draw(); return; }
    const q = { run: this.run.id, threads, from: this.from, to: this.to, px: this.width(),
      depth: this.maxDepthShown - 1 };
    this.pending++;
    this.dirty = false;
    try {
      const answer = await this.source.slices(q);
      this.slices = SP.Timeline.index(answer);
      this.exceptions = Object.assign(this.exceptions || {}, answer.exceptions);
    } catch (e) {
      this.events.onStatus("timeline: " + e.message);
    }
    this.pending--;
    if (this.dirty) return this.refresh();
    this.draw();
    this.settle();
  }

  busy() { return this.pending > 0 || this.overviewPending > 0 || this.dirty; }

  settle() {
    if (this.busy()) return;
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  // Rows by thread, and by depth in start order for hit tests.
  static index(answer) {
    const threads = new Map();
    for (const t of answer.threads) {
      const byDepth = [];
      for (const r of t.rows) (byDepth[r[0]] = byDepth[r[0]] || []).push(r);
      byDepth.forEach((rows) => rows && rows.sort((a, b) => a[1] - b[1]));
      threads.set(t.id, { ...t, byDepth });
    }
    return { from: answer.from, to: answer.to, threads };
  }

  // What the lanes show now, per thread (the browser tests compare it with SQL).
  counts() {
    const out = {};
    if (!this.slices) return out;
    for (const [id, t] of this.slices.threads) {
      const visible = t.rows.filter((r) => r[1] <= this.to && r[1] + r[2] >= this.from);
      out[id] = { level: t.level, boxes: visible.length, calls: visible.reduce((n, r) => n + r[4], 0) };
    }
    return out;
  }

  x(t) { return ((t - this.from) / (this.to - this.from)) * this.width(); }
  t(x) { return this.from + (x / this.width()) * (this.to - this.from); }

  static prepare(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return ctx;
  }

  boxStyle(row) {
    const name = this.site(row[3]).name;
    const faded = this.highlightSites && !this.highlightSites.has(row[3]);
    return SP.colour(name, faded);
  }

  draw() {
    const w = this.width();
    this.drawAxis();
    const ctx = SP.Timeline.prepare(this.els.canvas, w, Math.max(this.height, 40));
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    if (!this.lanes.length) {
      ctx.fillStyle = "#666";
      ctx.fillText("No thread selected: choose threads above.", 10, 20);
      return;
    }
    for (const lane of this.lanes) {
      ctx.fillStyle = lane.index % 2 ? "#f4f4f6" : "#fafafa";
      ctx.fillRect(0, lane.top, w, lane.height);
      ctx.fillStyle = "#222";
      const hidden = lane.thread.max_depth + 1 - lane.depths;
      ctx.fillText(`${lane.process.name} (pid ${lane.process.pid}) · ${lane.thread.name || "thread"} (tid ${lane.thread.tid})` +
        ` · ${SP.count(lane.thread.calls)} calls` + (hidden > 0 ? ` · ${hidden} deeper levels not shown` : ""),
        4, lane.top + this.headerH / 2);
      const t = this.slices && this.slices.threads.get(lane.thread.id);
      if (!t) continue;
      if (t.truncated) {
        ctx.fillStyle = "#a00";
        ctx.fillText("too many boxes: zoom in", w - 140, lane.top + this.headerH / 2);
      }
      for (const r of t.rows) {
        if (r[0] >= lane.depths) continue;
        let x0 = this.x(r[1]), x1 = this.x(r[1] + r[2]);
        if (x1 < 0 || x0 > w) continue;
        x0 = Math.max(x0, -1);
        x1 = Math.min(x1, w + 1);
        const bw = Math.max(x1 - x0, 1);
        const y = lane.top + this.headerH + r[0] * this.rowH;
        ctx.fillStyle = this.boxStyle(r);
        ctx.fillRect(x0, y, bw, this.rowH - 1);
        if (r[4] > 1) { // merged: a darker foot says "many calls here"
          ctx.fillStyle = "rgba(0,0,0,0.25)";
          ctx.fillRect(x0, y + this.rowH - 4, bw, 3);
        }
        if (r[7]) { // broken by an exception
          ctx.strokeStyle = "#c00";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(x0 + 0.75, y + 0.75, Math.max(bw - 1.5, 0.5), this.rowH - 2.5);
          ctx.fillStyle = "#c00";
          ctx.beginPath();
          ctx.moveTo(x0 + bw, y);
          ctx.lineTo(x0 + bw - Math.min(6, bw), y);
          ctx.lineTo(x0 + bw, y + Math.min(6, bw));
          ctx.fill();
        }
        if (this.highlightSites && this.highlightSites.has(r[3])) {
          ctx.strokeStyle = "#1a4fd6";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(x0, y, bw, this.rowH - 1);
        }
        if (this.selected && this.selected.row[5] === r[5]) {
          ctx.strokeStyle = "#000";
          ctx.lineWidth = 2;
          ctx.strokeRect(x0, y, bw, this.rowH - 1);
        }
        if (bw > 40) {
          const label = (r[4] > 1 ? r[4] + "× " : "") + SP.shortName(this.site(r[3]).name);
          ctx.fillStyle = "#000";
          ctx.save();
          ctx.beginPath();
          ctx.rect(x0, y, bw, this.rowH);
          ctx.clip();
          ctx.fillText(label, Math.max(x0, 0) + 3, y + this.rowH / 2);
          ctx.restore();
        }
      }
    }
    this.drawOverview();
  }

  drawAxis() {
    const w = this.width(), h = 20;
    const ctx = SP.Timeline.prepare(this.els.axis, w, h);
    const span = this.to - this.from;
    const step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 10);
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#444";
    ctx.strokeStyle = "#bbb";
    ctx.textBaseline = "middle";
    for (let t = Math.ceil(this.from / nice) * nice; t <= this.to; t += nice) {
      const x = Math.round(this.x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, 12);
      ctx.lineTo(x, h);
      ctx.stroke();
      ctx.fillText(SP.time(t, nice), x + 2, 7);
    }
  }

  drawOverview() {
    const canvas = this.els.overview, w = canvas.clientWidth, h = 48;
    const ctx = SP.Timeline.prepare(canvas, w, h);
    if (!this.run) return;
    const scale = (t) => (t / this.duration) * w;
    const n = Math.max(this.lanes.length, 1), band = h / n;
    if (this.overviewSlices)
      this.lanes.forEach((lane, i) => {
        const t = this.overviewSlices.threads.get(lane.thread.id);
        if (!t) return;
        for (const r of t.rows) {
          ctx.fillStyle = this.boxStyle(r);
          const dh = band / 3;
          ctx.fillRect(scale(r[1]), i * band + r[0] * dh, Math.max(scale(r[2]), 1), Math.max(dh - 0.5, 0.5));
        }
      });
    // The zoomed window, and the selection being dragged.
    const x0 = scale(this.from), x1 = scale(this.to);
    ctx.fillStyle = "rgba(30,60,160,0.12)";
    ctx.fillRect(x0, 0, x1 - x0, h);
    ctx.strokeStyle = "#1a3fa0";
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x0, 0.75, Math.max(x1 - x0, 1), h - 1.5);
    if (this.overviewDrag) {
      const [a, b] = [this.overviewDrag.x0, this.overviewDrag.x1].sort((p, q) => p - q);
      ctx.fillStyle = "rgba(255,160,0,0.3)";
      ctx.fillRect(a, 0, b - a, h);
    }
  }

  // The box under a point of the zoomed view, with its lane.
  hit(x, y) {
    const lane = this.lanes.find((l) => y >= l.top && y < l.top + l.height);
    if (!lane || !this.slices) return null;
    const depth = Math.floor((y - lane.top - this.headerH) / this.rowH);
    const t = this.slices.threads.get(lane.thread.id);
    if (depth < 0 || depth >= lane.depths || !t || !t.byDepth[depth]) return null;
    const rows = t.byDepth[depth], tolerance = (this.to - this.from) / this.width() * 2;
    const at = this.t(x);
    let lo = 0, hi = rows.length - 1, found = -1;
    while (lo <= hi) { // the last row starting before the point (and its tolerance)
      const mid = (lo + hi) >> 1;
      if (rows[mid][1] <= at + tolerance) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = found; i >= 0 && i >= found - 2; i--)
      if (rows[i][1] + rows[i][2] >= at - tolerance) return { lane, row: rows[i], thread: lane.thread };
    return null;
  }

  tooltipHtml(box) {
    const r = box.row, s = this.site(r[3]), span = this.to - this.from;
    let html = `<b>${SP.escape(s.name)}</b><br><span class="dim">${SP.escape(s.file)}:${s.line}</span>`;
    if (r[4] > 1)
      html += `<br><b>${SP.count(r[4])} calls</b> merged at this zoom; the longest:`;
    html += `<br>start ${SP.time(r[1], span / 1000)} · duration ${SP.duration(r[2])} · self ${SP.duration(r[6])}`;
    if (r[7]) {
      const e = (this.exceptions || {})[r[8]];
      html += `<br><span class="error">broken by ${e ? SP.escape(e[0]) + ": " + SP.escape(e[1]) : "an exception"}</span>`;
    }
    return html;
  }

  bind() {
    const { canvas, overview, tooltip, wrap } = this.els;
    let drag = null;
    canvas.addEventListener("mousedown", (e) => {
      drag = { x: e.offsetX, from: this.from, to: this.to, moved: false };
      canvas.focus();
    });
    window.addEventListener("mousemove", (e) => {
      if (!drag) return;
      const dx = e.clientX - canvas.getBoundingClientRect().left - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      if (!drag.moved) return;
      const dt = (dx / this.width()) * (drag.to - drag.from);
      this.setWindow(drag.from - dt, drag.to - dt);
    });
    window.addEventListener("mouseup", (e) => {
      if (drag && !drag.moved && e.target === canvas) {
        const box = this.hit(e.offsetX, e.offsetY);
        this.select(box);
      }
      drag = null;
    });
    canvas.addEventListener("dblclick", (e) => {
      const box = this.hit(e.offsetX, e.offsetY);
      if (box) this.zoomTo(box.row[1], box.row[2]);
    });
    canvas.addEventListener("mousemove", (e) => {
      const box = drag && drag.moved ? null : this.hit(e.offsetX, e.offsetY);
      if (!box) { tooltip.hidden = true; canvas.style.cursor = "default"; return; }
      canvas.style.cursor = "pointer";
      tooltip.innerHTML = this.tooltipHtml(box);
      tooltip.hidden = false;
      const x = Math.min(e.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
      const y = e.clientY + 16 + tooltip.offsetHeight > window.innerHeight ? e.clientY - tooltip.offsetHeight - 8 : e.clientY + 16;
      tooltip.style.left = x + "px";
      tooltip.style.top = y + "px";
    });
    canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY))
        this.pan((e.shiftKey ? e.deltaY : e.deltaX) / this.width());
      else
        this.zoom(Math.exp(e.deltaY * 0.002), e.offsetX / this.width());
    }, { passive: false });

    // The overview: drag to choose the zoomed range, click to centre it.
    const overviewX = (e) => Math.max(0, Math.min(e.clientX - overview.getBoundingClientRect().left, overview.clientWidth));
    overview.addEventListener("mousedown", (e) => {
      this.overviewDrag = { x0: overviewX(e), x1: overviewX(e) };
      e.preventDefault();
    });
    window.addEventListener("mousemove", (e) => {
      if (!this.overviewDrag) return;
      this.overviewDrag.x1 = overviewX(e);
      this.drawOverview();
    });
    window.addEventListener("mouseup", () => {
      const d = this.overviewDrag;
      if (!d) return;
      this.overviewDrag = null;
      const scale = this.duration / overview.clientWidth;
      if (Math.abs(d.x1 - d.x0) > 3)
        this.setWindow(Math.min(d.x0, d.x1) * scale, Math.max(d.x0, d.x1) * scale);
      else {
        const half = (this.to - this.from) / 2;
        this.setWindow(d.x0 * scale - half, d.x0 * scale + half);
      }
    });
    new ResizeObserver(() => { if (this.run) { this.draw(); this.refresh(); } }).observe(wrap);
  }

  select(box) {
    this.selected = box;
    this.draw();
    this.events.onSelect(box);
  }

  zoomTo(start, elapsed) {
    const pad = Math.max(elapsed * 0.1, 50);
    this.setWindow(start - pad, start + elapsed + pad);
  }

  // Scrolls a thread's lane into view.
  reveal(threadId) {
    const lane = this.lanes.find((l) => l.thread.id === threadId);
    if (lane) this.els.wrap.scrollTop = Math.max(lane.top - 20, 0);
  }
};
