// The flame graph: the run's call stacks merged by path (per thread or all), the outermost
// calls at the top; width is total time. Click a frame to zoom into it and highlight its
// function everywhere.
"use strict";

SP.Flame = class {
  constructor(canvas, tooltip, events) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.events = events; // onPick(site)
    this.rowH = 17;
    this.highlightSites = null;
    this.bind();
  }

  // data: {total, nodes: [[parent, site, calls, total, self], ...]} (parents first).
  setData(data, sites) {
    this.sites = sites;
    this.data = data;
    const nodes = data.nodes.map((n, i) => ({ i, parent: n[0], site: n[1], calls: n[2], total: n[3], self: n[4], children: [] }));
    const roots = [];
    for (const n of nodes) (n.parent < 0 ? roots : nodes[n.parent].children).push(n);
    this.root = { i: -1, site: -1, calls: 0, total: data.total, self: 0, children: roots, depth: 0 };
    this.maxDepth = 0;
    const place = (n, depth) => {
      n.depth = depth;
      this.maxDepth = Math.max(this.maxDepth, depth);
      n.children.sort((a, b) => b.total - a.total);
      n.children.forEach((c) => place(c, depth + 1));
    };
    place(this.root, 0);
    this.focus = this.root;
    this.draw();
  }

  name(n) {
    if (n.site < 0) return "all";
    const s = this.sites[n.site];
    return s ? s[0] : "site " + n.site;
  }

  highlight(sites) {
    this.highlightSites = sites && sites.size ? sites : null;
    this.draw();
  }

  // Frames as drawn: [node, x, width, y], the focused frame spanning the width.
  layout() {
    const frames = [], w = this.canvas.parentElement.clientWidth;
    const focusPath = [];
    for (let n = this.focus; n; n = n.parentNode) focusPath.unshift(n);
    focusPath.forEach((n) => frames.push([n, 0, w, n.depth * this.rowH]));
    const walk = (n, x, width) => {
      let cx = x;
      for (const c of n.children) {
        const cw = n.total ? (c.total / n.total) * width : 0;
        if (cw >= 0.5) {
          frames.push([c, cx, cw, c.depth * this.rowH]);
          walk(c, cx, cw);
        }
        cx += cw;
      }
    };
    walk(this.focus, 0, w);
    return frames;
  }

  draw() {
    if (!this.root) return;
    // Parent links for the focus path.
    const link = (n) => n.children.forEach((c) => { c.parentNode = n; link(c); });
    if (!this.linked) { link(this.root); this.linked = true; }
    const w = this.canvas.parentElement.clientWidth;
    const h = (this.maxDepth + 1) * this.rowH + 4;
    const ctx = SP.Timeline.prepare(this.canvas, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    this.frames = this.layout();
    for (const [n, x, fw, y] of this.frames) {
      const name = this.name(n);
      const faded = this.highlightSites && !this.highlightSites.has(n.site);
      ctx.fillStyle = n.site < 0 ? "#ddd" : SP.colour(name, faded);
      ctx.fillRect(x, y, Math.max(fw - 0.5, 0.5), this.rowH - 1);
      if (this.highlightSites && this.highlightSites.has(n.site)) {
        ctx.strokeStyle = "#1a4fd6";
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x + 0.5, y + 0.5, fw - 1, this.rowH - 2);
      }
      if (fw > 30) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, fw, this.rowH);
        ctx.clip();
        ctx.fillStyle = "#000";
        ctx.fillText(n.site < 0 ? `all (${SP.duration(n.total)})` : SP.shortName(name), x + 3, y + this.rowH / 2);
        ctx.restore();
      }
    }
  }

  hit(x, y) {
    if (!this.frames) return null;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const [n, fx, fw, fy] = this.frames[i];
      if (x >= fx && x < fx + Math.max(fw, 1) && y >= fy && y < fy + this.rowH) return n;
    }
    return null;
  }

  zoomTo(node) {
    this.focus = node || this.root;
    this.draw();
  }

  bind() {
    this.canvas.addEventListener("mousemove", (e) => {
      const n = this.hit(e.offsetX, e.offsetY);
      if (!n) { this.tooltip.hidden = true; return; }
      const s = n.site >= 0 ? this.sites[n.site] : null;
      const pct = this.root.total ? ((n.total / this.root.total) * 100).toFixed(1) : "0";
      this.tooltip.innerHTML = `<b>${SP.escape(this.name(n))}</b>` +
        (s ? `<br><span class="dim">${SP.escape(s[1])}:${s[2]}</span>` : "") +
        `<br>${SP.count(n.calls)} calls · total ${SP.duration(n.total)} (${pct}%) · self ${SP.duration(n.self)}`;
      this.tooltip.hidden = false;
      this.tooltip.style.left = Math.min(e.clientX + 14, window.innerWidth - this.tooltip.offsetWidth - 8) + "px";
      this.tooltip.style.top = Math.max(e.clientY - this.tooltip.offsetHeight - 8, 0) + "px";
    });
    this.canvas.addEventListener("mouseleave", () => { this.tooltip.hidden = true; });
    this.canvas.addEventListener("click", (e) => {
      const n = this.hit(e.offsetX, e.offsetY);
      if (!n) return;
      this.zoomTo(n === this.focus ? n.parentNode : n);
      if (n.site >= 0) this.events.onPick(n.site);
    });
    this.canvas.addEventListener("keydown", (e) => {
      if (e.key === "Escape" || e.key === "Backspace") this.zoomTo(this.root);
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas.parentElement);
  }
};
