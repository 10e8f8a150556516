// The viewer in real headless Chromium (Debian's, driven by playwright-core): the served page
// and the single file load without console errors; lanes and boxes match the database; zoom,
// drag in the overview, hover, search, details and the flame graph work. Screenshots go to
// ARTIFACTS.
//
// usage: node check_view_browser.mjs SCOPEPROF DB URL REPORT.html ARTIFACTS NODE_MODULES
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const [scopeprof, db, url, report, artifacts, nodeModules] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, "noop.js"));
const { chromium } = require("playwright-core");

let failures = 0;
function expect(condition, message) {
  if (condition) {
    console.log("ok   " + message);
  } else {
    console.log("FAIL " + message);
    failures++;
  }
}

function sql(query) {
  return JSON.parse(execFileSync(scopeprof, ["query", "--format", "json", db, query], { encoding: "utf8" }));
}

// Calls of a thread overlapping [from, to] (ns after the run's start), as SQL counts them. The
// page's window has fractional edges (zooming divides it) and calls whole-ns times: a call
// overlaps when it starts at floor(to) or before and ends at ceil(from) or after. Rounded the
// other way, as the page rounds its request to fetch a little more, the count takes in a call
// starting a fraction of a ns past the right edge, which the page rightly does not count.
function callsIn(thread, from, to) {
  return sql(`SELECT count(*) AS n FROM calls c JOIN runs r ON r.id = c.run_id WHERE c.thread_id = ${thread}
              AND c.depth < 48 AND c.start_ns <= r.start_ns + ${Math.floor(to)} AND c.end_ns >= r.start_ns + ${Math.ceil(from)}`)[0].n;
}

async function open(browser, target, name) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  await page.goto(target);
  await page.waitForFunction(() => window.scopeprofView && (window.scopeprofView.ready || window.scopeprofView.errors.length));
  expect(await page.evaluate(() => window.scopeprofView.ready), `${name}: the page loads`);
  return { page, errors };
}

const idle = (page) => page.evaluate(() => window.scopeprofView.timeline.idle());
const state = (page) => page.evaluate(() => {
  const t = window.scopeprofView.timeline;
  return { from: t.from, to: t.to, counts: t.counts(), lanes: t.lanes.map((l) => l.thread.id), run: t.run.id };
});

// Every lane's boxes, at the current window, against SQL: call by call, exactly the calls in
// the window. Merged (level L, buckets of B ns), a box at an edge also holds the calls of its
// bucket just outside: a box holds calls starting in one bucket, each shorter than B, so they
// start before to + B and end after from - 2 B.
async function checkLanes(page, name) {
  const s = await state(page);
  let good = 0;
  for (const id of s.lanes) {
    const c = s.counts[id];
    const want = callsIn(id, s.from, s.to);
    const bucket = c && c.level > 0 ? 16000 * Math.pow(4, c.level - 1) : 0;
    const most = bucket ? callsIn(id, s.from - 2 * bucket, s.to + bucket) : want;
    if (c && c.calls >= want && c.calls <= most) good++;
    else console.log(`  thread ${id}: ${JSON.stringify(c)}, SQL ${want}${most === want ? "" : ".." + most} calls in [${s.from}, ${s.to}]`);
  }
  expect(good === s.lanes.length && good > 0, `${name}: the boxes of all ${s.lanes.length} lanes count the calls SQL finds`);
  return s;
}

// The screen position of the middle of a box of the timeline.
async function boxPoint(page, predicate) {
  return page.evaluate((source) => {
    const t = window.scopeprofView.timeline, pick = eval("(" + source + ")");
    for (const lane of t.lanes) {
      const s = t.slices.threads.get(lane.thread.id);
      for (const r of s ? s.rows : []) {
        if (r[0] >= lane.depths || !pick(r, t)) continue;
        const x0 = Math.max(t.x(r[1]), 0), x1 = Math.min(t.x(r[1] + r[2]), t.width());
        if (x1 - x0 < 3) continue;
        t.reveal(lane.thread.id);
        const rect = t.els.canvas.getBoundingClientRect();
        return { x: rect.left + (x0 + x1) / 2, y: rect.top + lane.top + t.headerH + r[0] * t.rowH + t.rowH / 2, row: r,
          name: t.site(r[3]).name };
      }
    }
    return null;
  }, predicate.toString());
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const runs = sql("SELECT id, name FROM runs ORDER BY id");
  const { page, errors } = await open(browser, url, "served");
  await idle(page);

  // Lanes: one per thread of the latest run, in the database's numbers.
  let s = await checkLanes(page, "whole run");
  const threads = sql(`SELECT id FROM threads WHERE run_id = ${runs[runs.length - 1].id}`);
  expect(s.lanes.length === threads.length, `one lane per thread (${threads.length})`);
  const big = s.lanes[0];
  expect(s.counts[big].level > 0, `zoomed out, 80 000 calls are drawn merged (level ${s.counts[big].level})`);
  await page.screenshot({ path: path.join(artifacts, "served.png") });

  // Zoom with the keyboard: W narrows the window around its middle, to single calls.
  await page.click("#timeline", { position: { x: 5, y: 5 } });
  for (let i = 0; i < 13; i++) await page.keyboard.press("w");
  await idle(page);
  const zoomed = await checkLanes(page, "zoomed with W");
  expect(zoomed.to - zoomed.from < (s.to - s.from) * 0.011, "13 presses of W zoom in about 100 times");
  expect(zoomed.counts[big].level === 0, "zoomed in, every call is its own box");
  await page.screenshot({ path: path.join(artifacts, "zoomed.png") });
  // Edges a fraction of a ns inside the gaps next to two calls, one starting just after the
  // window, one ending just before it: neither is in it, though the request (whole ns, rounded
  // outwards) fetches both.
  const span = zoomed.to - zoomed.from;
  const right = sql(`SELECT min(c.start_ns - r.start_ns) AS t FROM calls c JOIN runs r ON r.id = c.run_id
    WHERE c.thread_id = ${big} AND c.depth < 48 AND c.start_ns - r.start_ns > ${Math.ceil(zoomed.to)}`)[0].t;
  const left = sql(`SELECT max(c.end_ns - r.start_ns) AS t FROM calls c JOIN runs r ON r.id = c.run_id
    WHERE c.thread_id = ${big} AND c.depth < 48 AND c.end_ns - r.start_ns < ${Math.floor(right - span)}`)[0].t;
  await page.evaluate(([from, to]) => window.scopeprofView.timeline.setWindow(from, to), [left + 0.28, right - 0.28]);
  await idle(page);
  const edges = await checkLanes(page, "edges between whole ns, a call just outside each");
  expect(edges.counts[big].level === 0, "the window between two calls is drawn call by call");
  await page.keyboard.press("d");
  await idle(page);
  const panned = await state(page);
  expect(panned.from > edges.from, "D pans right");
  await page.keyboard.press("0");
  await idle(page);

  // Drag in the overview from a quarter to a half of the run.
  const ov = await page.locator("#overview").boundingBox();
  await page.mouse.move(ov.x + ov.width * 0.25, ov.y + 20);
  await page.mouse.down();
  await page.mouse.move(ov.x + ov.width * 0.4, ov.y + 20, { steps: 4 });
  await page.mouse.move(ov.x + ov.width * 0.5, ov.y + 20, { steps: 4 });
  await page.mouse.up();
  await idle(page);
  s = await checkLanes(page, "dragged in the overview");
  const duration = await page.evaluate(() => window.scopeprofView.timeline.duration);
  expect(Math.abs(s.from - duration * 0.25) < duration * 0.01 && Math.abs(s.to - duration * 0.5) < duration * 0.01,
    `the overview drag shows a quarter to a half of the run (${(s.from / duration).toFixed(3)}..${(s.to / duration).toFixed(3)})`);

  // Wheel: zoom in around the pointer.
  const tl = await page.locator("#timeline").boundingBox();
  await page.mouse.move(tl.x + tl.width / 2, tl.y + 30);
  await page.mouse.wheel(0, -400);
  await idle(page);
  const wheeled = await state(page);
  expect(wheeled.to - wheeled.from < s.to - s.from, "the wheel zooms in");

  // Hover: the tooltip names the function and its timing. Zoomed to the longest call of the
  // run, a third of the width, it is drawn alone.
  const longestCall = sql(`SELECT c.id, c.start_ns - r.start_ns AS start, c.end_ns - c.start_ns AS elapsed
    FROM calls c JOIN runs r ON r.id = c.run_id WHERE c.run_id = ${runs[runs.length - 1].id} AND c.depth = 1
    ORDER BY c.duration_ns DESC LIMIT 1`)[0];
  await page.evaluate((c) => window.scopeprofView.timeline.setWindow(c.start - c.elapsed, c.start + 2 * c.elapsed), longestCall);
  await idle(page);
  let box = await boxPoint(page, `(r) => r[5] === ${longestCall.id}`);
  expect(box !== null && box.row[4] === 1, "the longest inner call is drawn alone");
  await page.mouse.move(box.x, box.y);
  const tip = await page.locator("#tooltip").textContent();
  expect(await page.locator("#tooltip").isVisible() && tip.includes(box.name) && tip.includes("duration") && tip.includes("self"),
    `hover shows ${box.name}, duration and self time`);
  await page.screenshot({ path: path.join(artifacts, "tooltip.png") });

  // Click: the details and the call's path, as SQL knows it.
  await page.mouse.click(box.x, box.y);
  await page.locator("#details").waitFor();
  const path0 = sql(`WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM calls WHERE id = ${box.row[5]}
    UNION ALL SELECT c.id, c.parent_id FROM calls c JOIN up ON c.id = up.parent) SELECT count(*) AS n FROM up`)[0].n;
  const frames = await page.locator("#details ol.path li").count();
  expect(frames === path0, `the details show the call's path of ${path0} frames (${frames})`);

  // Search: highlights the function; Enter zooms to its longest call and selects it.
  await page.keyboard.press("Escape");
  await page.keyboard.press("/");
  await page.keyboard.type("leaf");
  const count = await page.locator("#search-count").textContent();
  const leafSite = sql("SELECT id FROM sites WHERE signature = 'leaf(int)'")[0].id;
  expect(count === "1 function" && await page.evaluate((site) => window.scopeprofView.timeline.highlightSites.has(site), leafSite),
    "search highlights leaf(int)");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.scopeprofView.timeline.selected);
  await idle(page);
  const picked = await page.evaluate(() => window.scopeprofView.timeline.selected.row);
  const longest = sql(`SELECT id FROM calls WHERE site_id = ${leafSite} AND run_id = ${runs[runs.length - 1].id}
                       ORDER BY duration_ns DESC LIMIT 1`)[0].id;
  expect(picked[5] === longest, "Enter zooms to the longest call of leaf(int) and selects it");
  // The details come from their own request, which a loaded machine may answer after the idle
  // check: wait for them (up to 10 s) rather than read them at once.
  await page.waitForFunction(() => document.querySelector("#details h2")?.textContent === "leaf(int)",
    null, { timeout: 10000 }).catch(() => {});
  expect((await page.locator("#details h2").textContent()) === "leaf(int)", "its details are shown");
  await page.screenshot({ path: path.join(artifacts, "search.png") });

  // The flame graph: its total is the time of the outermost calls; a click picks the function
  // in the function table.
  const flameTotal = await page.evaluate(() => window.scopeprofView.flame.root.total);
  const top = sql(`SELECT sum(duration_ns) AS t FROM calls WHERE run_id = ${runs[runs.length - 1].id} AND depth = 0`)[0].t;
  expect(flameTotal === top, `the flame graph's total is the outermost calls' time (${flameTotal} vs ${top})`);
  const fl = await page.locator("#flame").boundingBox();
  const frame = await page.evaluate(() => {
    const f = window.scopeprofView.flame.frames.find(([n, , w]) => n.site >= 0 && w > 20);
    return { x: f[1] + 10, y: f[3] + 8, site: f[0].site };
  });
  await page.mouse.click(fl.x + frame.x, fl.y + frame.y);
  expect(await page.evaluate(() => window.scopeprofView.table.selectedSite) === frame.site, "a flame frame picks its function in the table");
  await page.screenshot({ path: path.join(artifacts, "flame.png") });

  // The function table: one row per function, sortable, filtered.
  await page.keyboard.press("Escape");
  await page.locator("#timeline").focus();
  await page.keyboard.press("t");
  const functions = sql(`SELECT count(DISTINCT site_id) AS n FROM calls WHERE run_id = ${runs[runs.length - 1].id}`)[0].n;
  expect(await page.locator("#functions tbody tr").count() === functions, `the table has the run's ${functions} functions`);
  await page.click("#functions th button[data-key=calls]");
  const firstCalls = await page.locator("#functions tbody tr:first-child td:nth-child(3)").textContent();
  const most = sql(`SELECT count(*) AS n FROM calls WHERE run_id = ${runs[runs.length - 1].id} GROUP BY site_id ORDER BY n DESC LIMIT 1`)[0].n;
  expect(firstCalls === most.toLocaleString("en-US"), `sorted by calls, the first row has the most (${firstCalls})`);
  await page.fill("#filter", "inner");
  expect(await page.locator("#functions tbody tr").count() === 1, "the filter keeps inner(int) alone");
  await page.screenshot({ path: path.join(artifacts, "functions.png") });

  // The other run: processes and threads, a broken call marked and explained.
  await page.fill("#search", "");
  await page.selectOption("#run", String(runs[0].id));
  await page.waitForFunction((id) => window.scopeprofView.timeline.run.id === id && !window.scopeprofView.timeline.busy(), runs[0].id);
  await idle(page);
  s = await checkLanes(page, "the multi-process run");
  const processes = sql(`SELECT count(*) AS n FROM processes WHERE run_id = ${runs[0].id}`)[0].n;
  expect(await page.locator("#threads fieldset").count() === processes, `the picker lists its ${processes} processes`);
  const brokenCall = sql(`SELECT c.id, c.start_ns - r.start_ns AS start, c.end_ns - c.start_ns AS elapsed, e.type, e.message
    FROM calls c JOIN runs r ON r.id = c.run_id JOIN exceptions e ON e.id = c.exception_id WHERE c.run_id = ${runs[0].id}
    ORDER BY c.duration_ns DESC LIMIT 1`)[0];
  await page.evaluate((c) => window.scopeprofView.timeline.zoomTo(c.start, c.elapsed), brokenCall);
  await idle(page);
  box = await boxPoint(page, `(r) => r[5] === ${brokenCall.id}`);
  expect(box !== null, "the broken call is drawn");
  await page.mouse.move(box.x, box.y);
  const brokenTip = await page.locator("#tooltip").textContent();
  expect(brokenTip.includes(brokenCall.type) && brokenTip.includes(brokenCall.message), `its tooltip names ${brokenCall.type}: ${brokenCall.message}`);
  await page.screenshot({ path: path.join(artifacts, "broken.png") });
  // Unticking a process removes its lanes.
  await page.click("#threads-picker summary");
  await page.locator("#threads input[data-process]").nth(1).uncheck();
  const after = (await state(page)).lanes.length;
  expect(after < s.lanes.length, `unticking a process hides its threads (${s.lanes.length} -> ${after} lanes)`);

  expect(errors.length === 0, "the served page logs no error: " + errors.join(" | "));
  await page.close();

  // The single file: no server, the same viewer on its summarized data.
  const file = await open(browser, "file://" + report, "single file");
  await idle(file.page);
  const notice = await file.page.locator("#notice").textContent();
  expect(notice.includes("merged") || notice.includes("every one"), "the file says what it summarized: " + notice);
  s = await state(file.page);
  const last = runs[runs.length - 1].id;
  let all = 0;
  for (const id of s.lanes) all += s.counts[id].calls === callsIn(id, -1e15, 1e15) ? 1 : 0;
  expect(all === s.lanes.length, "the single file's boxes count every call of each lane");
  await file.page.screenshot({ path: path.join(artifacts, "single-file.png") });
  await file.page.click("#timeline", { position: { x: 5, y: 5 } });
  for (let i = 0; i < 6; i++) await file.page.keyboard.press("w");
  await idle(file.page);
  const fileZoomed = await state(file.page);
  expect(fileZoomed.to - fileZoomed.from < (s.to - s.from) / 5, "the single file zooms");
  // Against SQL rather than "some boxes": on a loaded machine the workload can be descheduled
  // for the middle eighth of its run, which the zoom shows.
  await checkLanes(file.page, "the single file, zoomed");
  expect(file.errors.length === 0, "the single file logs no error: " + file.errors.join(" | "));
  expect(last === s.run, "the single file shows the latest run");
} finally {
  await browser.close();
}
console.log(failures ? `${failures} browser checks failed` : "all browser checks passed");
process.exit(failures ? 1 : 0);
