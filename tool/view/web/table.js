// The function table: per function calls, total, self, max and broken calls, sortable by any
// column and filtered by name. A row picks its function in the timeline and the flame graph.
"use strict";

SP.FunctionTable = class {
  constructor(table, filter, events) {
    this.table = table;
    this.filter = filter;
    this.events = events; // onPick(site), onJump(site)
    this.sortKey = "self";
    this.descending = true;
    this.rows = [];
    this.columns = [
      ["name", "Function", false], ["file", "File", false], ["calls", "Calls", true],
      ["total", "Total", true], ["self", "Self", true], ["selfPct", "Self %", true],
      ["max", "Longest", true], ["broken", "Broken", true],
    ];
    const head = table.querySelector("thead tr");
    head.innerHTML = this.columns.map(([key, label, numeric]) =>
      `<th class="${numeric ? "num" : ""}" aria-sort="none"><button data-key="${key}">${label}</button></th>`).join("");
    head.addEventListener("click", (e) => {
      const key = e.target.dataset && e.target.dataset.key;
      if (!key) return;
      this.descending = key === this.sortKey ? !this.descending : key !== "name" && key !== "file";
      this.sortKey = key;
      this.render();
    });
    filter.addEventListener("input", () => this.render());
    const body = table.querySelector("tbody");
    body.addEventListener("click", (e) => this.pick(e.target.closest("tr")));
    body.addEventListener("dblclick", (e) => { const tr = e.target.closest("tr"); if (tr) this.events.onJump(+tr.dataset.site); });
    body.addEventListener("keydown", (e) => {
      const tr = e.target.closest("tr");
      if (!tr) return;
      if (e.key === "Enter") { this.pick(tr); this.events.onJump(+tr.dataset.site); }
      else if (e.key === " ") { e.preventDefault(); this.pick(tr); }
      else if (e.key === "ArrowDown" && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
      else if (e.key === "ArrowUp" && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
    });
  }

  // rows: [[site, calls, total, self, max, broken], ...]
  setData(rows, sites) {
    const selfSum = rows.reduce((n, r) => n + r[3], 0) || 1;
    this.rows = rows.map((r) => {
      const s = sites[r[0]] || ["site " + r[0], "", 0];
      return { site: r[0], name: s[0], file: `${s[1]}:${s[2]}`, calls: r[1], total: r[2], self: r[3],
        selfPct: (r[3] / selfSum) * 100, max: r[4], broken: r[5] };
    });
    this.render();
  }

  pick(tr) {
    if (!tr) return;
    this.selectedSite = +tr.dataset.site;
    this.render();
    this.events.onPick(this.selectedSite);
  }

  select(site) {
    this.selectedSite = site;
    this.render();
    const tr = this.table.querySelector(`tr[data-site="${site}"]`);
    if (tr) tr.scrollIntoView({ block: "nearest" });
  }

  render() {
    const needle = this.filter.value.trim().toLowerCase();
    const key = this.sortKey, sign = this.descending ? -1 : 1;
    const rows = this.rows.filter((r) => !needle || r.name.toLowerCase().includes(needle) || r.file.toLowerCase().includes(needle))
      .sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) * sign);
    this.table.querySelectorAll("thead th").forEach((th, i) => {
      th.setAttribute("aria-sort", this.columns[i][0] === key ? (this.descending ? "descending" : "ascending") : "none");
    });
    this.shown = rows.length;
    this.table.querySelector("tbody").innerHTML = rows.slice(0, 2000).map((r) =>
      `<tr tabindex="0" data-site="${r.site}"${r.site === this.selectedSite ? ' class="selected"' : ""}>` +
      `<td class="name" title="${SP.escape(r.name)}">${SP.escape(r.name)}</td><td class="dim">${SP.escape(r.file)}</td>` +
      `<td class="num">${SP.count(r.calls)}</td><td class="num">${SP.duration(r.total)}</td>` +
      `<td class="num">${SP.duration(r.self)}</td><td class="num">${r.selfPct.toFixed(1)}</td>` +
      `<td class="num">${SP.duration(r.max)}</td><td class="num${r.broken ? " error" : ""}">${r.broken ? SP.count(r.broken) : ""}</td></tr>`).join("");
  }
};
