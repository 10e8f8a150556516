// One place for formatting and colours, shared by every view.
"use strict";
window.SP = window.SP || {};

SP.duration = function (ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return ns.toFixed(0) + " ns";
  if (a < 1e6) return (ns / 1e3).toPrecision(3) + " µs";
  if (a < 1e9) return (ns / 1e6).toPrecision(3) + " ms";
  return (ns / 1e9).toPrecision(3) + " s";
};

// A time on the run's clock, in ms with the digits that \p resolution (ns) needs.
SP.time = function (ns, resolution) {
  const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(Math.max(resolution, 1) / 1e6))));
  return (ns / 1e6).toFixed(digits) + " ms";
};

SP.count = (n) => n.toLocaleString("en-US");

SP.escape = (s) => String(s).replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// A function keeps its colour in every view: a hue from a hash of its name.
SP.colour = (function () {
  const cache = new Map();
  return function (name, faded) {
    const key = name + (faded ? "\u0001" : "");
    let c = cache.get(key);
    if (!c) {
      let h = 2166136261;
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
      const hue = (h >>> 0) % 360, light = 62 + ((h >>> 9) % 14);
      c = faded ? `hsl(${hue} 12% 88%)` : `hsl(${hue} 70% ${light}%)`;
      cache.set(key, c);
    }
    return c;
  };
})();

// "app::Parser::parse(const char *)" -> "app::Parser::parse": what fits in a box.
SP.shortName = (signature) => {
  const paren = signature.indexOf("(");
  return paren > 0 ? signature.slice(0, paren) : signature;
};
