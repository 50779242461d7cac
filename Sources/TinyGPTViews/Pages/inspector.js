// The inspector page's script (no library): it reads the JSON the page carries (the numbers
// from GPT.trace, and the words of InspectorText.swift), draws the sections, and recomputes
// softmax(z / T) with top-k and top-p as `Sampler.distribution` does (same order of
// operations, temperature and p rounded to float32 like the Swift Float settings), so the
// page's numbers equal Swift's. InspectorLayout.swift puts inspector-model.js at the marker
// line below (the one line that is only the marker), and the whole script inside the page's
// one script element, in a CDATA section: so no closing script tag and no "]]" followed by ">".
//
// Test hook, in the URL's fragment, parts joined by "&" (each value percent-encoded):
//   lang=en|zh                 the page's language
//   show=next|sweep|attention|heads|stream   only that section (for screenshots; sweep
//                              exists when the page carries a temperature sweep)
//   sweep=I                    press the button of the sweep's I-th temperature (0-based)
//   head=L,H  query=T          the head and the query position to open
//   draw=N                     press "draw" N times (once without --with-model)
//   prompt=TEXT                with --with-model: run the model on TEXT (see inspector-model.js)
//   check=T=0.7,k=5,p=0.9;T=0  for each setting (";" between), set the sliders through their
//                              own controls, recompute, and write the list of
//                              {"T","k","p","probabilities","entropy"} as JSON into
//                              the element #check-result (values snap to the sliders' steps:
//                              T by 0.05, p by 0.01; k = vocabulary size and p = 1 mean off)
//   state=1                    at the end, write {"layer","head","query","k","sliderK","arrows",
//                              "nextOrder","sweepButtonsShown","flowOverflows"} as JSON into
//                              the element #state-result
// Script errors and console.error calls are written into the element #errors.

(function () {
"use strict";
var errorsBox = document.getElementById("errors");
function reportError(text) { errorsBox.textContent += text + "\n"; }
window.addEventListener("error", function (e) { reportError("error: " + e.message + " (line " + e.lineno + ")"); });
var consoleError = console.error;
console.error = function () {
  reportError("console.error: " + Array.prototype.join.call(arguments, " "));
  consoleError.apply(console, arguments);
};

var D = JSON.parse(document.getElementById("inspector-data").textContent);
// Every word the page shows, by key, in English and Chinese (InspectorText.swift).
var WORDS = JSON.parse(document.getElementById("inspector-words").textContent);
var V = D.vocab.length, L = D.layers, H = D.heads;
// The sweep's distributions are those of the prompt it was made from, even after a new prompt.
var sweepLogits = D.logits.slice();
var promptTokens = D.tokens.slice();
var state = { lang: D.lang, T: 1, k: V, p: 1, layer: D.open ? Math.min(L - 1, D.open.layer) : 0,
              head: D.open ? Math.min(H - 1, D.open.head) : 0, query: promptTokens.length - 1,
              drawn: [], lastDraw: null, logits: D.logits, text: promptTokens.slice(), drawnFrom: promptTokens.length };
// The fonts and colours of theme.css, read from its custom properties (the one palette the
// page's CSS and the Swift charts share).
var THEME = window.getComputedStyle(document.documentElement);
function themed(name) {
  var value = THEME.getPropertyValue(name).trim();
  if (!value) { reportError("theme.css does not set " + name); }
  return value;
}
var FONT = themed("--sans");
var PALETTE = [0, 1, 2, 3, 4, 5, 6, 7].map(function (i) { return themed("--series-" + i); });
// The sequential scale's five stops as [r, g, b].
var SCALE = [0, 1, 2, 3, 4].map(function (i) {
  var hex = themed("--scale-" + i);
  return [1, 3, 5].map(function (k) { return parseInt(hex.slice(k, k + 2), 16); });
});

function $(id) { return document.getElementById(id); }
function word(key, fill) {
  var s = WORDS[state.lang][key] || WORDS.en[key] || key;
  if (fill) { s = s.replace(/\{(\w+)\}/g, function (m, name) { return name in fill ? String(fill[name]) : m; }); }
  return s;
}
function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
// The same stand-ins as Markup.visible: newline, space, tab and control characters made visible,
// and characters that show as nothing (line and paragraph separators, other spaces, zero-width).
function visible(c) {
  var code = c.codePointAt(0);
  if (c === "\n") { return "⏎"; }
  if (c === " ") { return "␣"; }
  if (c === "\t") { return "⇥"; }
  if (code < 0x20) { return String.fromCodePoint(0x2400 + code); }
  if (code === 0x7f) { return "␡"; }
  if (code >= 0x80 && code < 0xa0) { return "\ufffd"; }
  if (code === 0x2028) { return "␤"; }
  if (code === 0x2029) { return "¶"; }
  if (/^\p{Zs}$/u.test(c)) { return "⍽"; }
  if (/^\p{Cf}$/u.test(c)) { return "◌"; }
  return c;
}
function isSpace(c) { return c === "\n" || c === " " || c === "\t"; }
function fixed(x, d) {
  var s = x.toFixed(d);
  if (/^-0\.?0*$/.test(s)) { s = s.slice(1); }
  return s;
}
function percent(x) { return Math.round(x * 100) + "%"; }
// The same white-to-dark-blue scale as ChartColours.sequential.
function colour(t) {
  var stops = SCALE;
  t = isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  var pos = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(pos)), f = pos - i;
  var a = stops[i], b = stops[i + 1];
  function mix(u, v) { return Math.round(u + (v - u) * f); }
  return "rgb(" + mix(a[0], b[0]) + "," + mix(a[1], b[1]) + "," + mix(a[2], b[2]) + ")";
}
function weight(l, h, t, j) { return D.attention[l][h].w[t * (t + 1) / 2 + j]; }
function score(l, h, t, j) { return D.attention[l][h].s[t * (t + 1) / 2 + j]; }
function valueSize(l, h, t, j) { return D.attention[l][h].v[t * (t + 1) / 2 + j]; }

// MARK: - The maths (mirrors Softmax.probabilities and Sampler.distribution)

function ranked(P) {
  var order = [];
  for (var i = 0; i < P.length; i++) { order.push(i); }
  order.sort(function (a, b) { return P[a] !== P[b] ? P[b] - P[a] : a - b; });
  return order;
}
function distribution(z, T, k, p) {
  var n = z.length, P = new Array(n).fill(0), i;
  T = Math.fround(T);
  if (T === 0) {
    var best = 0;
    for (i = 1; i < n; i++) { if (z[i] > z[best]) { best = i; } }
    P[best] = 1;
    return P;
  }
  var m = -Infinity, sum = 0;
  for (i = 0; i < n; i++) { m = Math.max(m, z[i]); }
  for (i = 0; i < n; i++) { P[i] = Math.exp((z[i] - m) / T); sum += P[i]; }
  for (i = 0; i < n; i++) { P[i] /= sum; }
  var useK = k < n, useP = p < 1;
  if (!useK && !useP) { return P; }
  var order = ranked(P), keep = useK ? k : n;
  if (useP) {
    var target = Math.fround(p), cumulative = 0;
    for (var r = 0; r < keep; r++) {
      cumulative += P[order[r]];
      if (cumulative >= target) { keep = r + 1; break; }
    }
  }
  var kept = new Array(n).fill(0), total = 0;
  for (i = 0; i < keep; i++) { kept[order[i]] = P[order[i]]; total += P[order[i]]; }
  for (i = 0; i < n; i++) { kept[i] /= total; }
  return kept;
}
function entropyBits(P) {
  var h = 0;
  for (var i = 0; i < P.length; i++) { if (P[i] > 0) { h -= P[i] * Math.log2(P[i]); } }
  return Math.max(0, h);
}

//@MODEL@

//@LEARNING@

// MARK: - Header and prompt

function renderHeader() {
  document.title = word("title");
  document.querySelector("h1").textContent = word("title");
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  var nodes = document.querySelectorAll("[data-t]");
  for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = word(nodes[i].getAttribute("data-t")); }
  $("model-info").textContent = D.model + " · " + word("modelInfo", { layers: L, heads: H, width: D.width, vocab: V });
}
function renderPrompt() {
  var box = $("prompt"), html = "";
  promptTokens.forEach(function (id, t) {
    var c = D.vocab[id];
    html += "<span class=\"ch" + (t === state.query ? " selected" : "") + (isSpace(c) ? " ws" : "") +
      "\" data-pos=\"" + t + "\">" + esc(visible(c)) + "</span>";
  });
  box.innerHTML = html;
}

// MARK: - 1. The next character

function controls() {
  $("temperature-value").textContent = state.T === 0 ? "0 (" + word("greedy") + ")" : fixed(state.T, 2);
  var buttons = document.querySelectorAll(".temp-button");
  for (var b = 0; b < buttons.length; b++) {
    var on = Math.fround(Number(buttons[b].getAttribute("data-temperature"))) === Math.fround(state.T);
    buttons[b].className = "temp-button" + (on ? " on" : "");
  }
  $("top-k-value").textContent = state.k >= V ? word("all") : String(state.k);
  $("top-p-value").textContent = state.p >= 1 ? word("off") : fixed(state.p, 2);
}
function currentDistribution() { return distribution(state.logits, state.T, state.k, state.p); }
// The top-k slider is logarithmic: position s of K_STEPS gives k = round(V^(s / K_STEPS)), so
// the small k that matter (1, 2, 3 …) each have a stop even when V is in the thousands, and the
// last stop is V (all).
var K_STEPS = 1000;
function kFromSlider(s) { return Math.max(1, Math.min(V, Math.round(Math.pow(V, s / K_STEPS)))); }
function sliderFromK(k) { return V <= 1 ? K_STEPS : Math.round(K_STEPS * Math.log(Math.max(1, Math.min(V, k))) / Math.log(V)); }
function renderNext() {
  controls();
  var P = currentDistribution();
  var full = distribution(state.logits, state.T, V, 1);
  // Ranked by logit, the same order as the probabilities at any T > 0, and still the rank
  // order at T = 0, where every probability but the top one is 0.
  var order = ranked(state.logits).slice(0, Math.min(V, 16));
  var scale = Math.max(1e-12, Math.max.apply(null, order.map(function (i) { return Math.max(P[i], full[i]); })));
  var html = "";
  order.forEach(function (i) {
    var cut = P[i] === 0 && full[i] > 0;
    var shown = cut ? full[i] : P[i];
    html += "<div class=\"bar-row" + (cut ? " cut" : "") + "\"><span class=\"label\">" + esc(visible(D.vocab[i])) +
      "</span><span class=\"track\"><span class=\"fill\" style=\"display:block;width:" + (100 * shown / scale).toFixed(1) +
      "%\"></span></span><span class=\"value\">" + fixed(shown, 3) + "</span></div>";
  });
  $("bars").innerHTML = html;
  $("entropy").textContent = fixed(entropyBits(P), 3);
  var keptCount = P.filter(function (x) { return x > 0; }).length;
  $("kept").textContent = word("kept", { n: keptCount });
  var anyCut = P.some(function (x, j) { return x === 0 && full[j] > 0; });
  renderFormula(P, order.slice(0, 3), anyCut);
  renderStrip(P, null);
  return P;
}
// The arrow "→ p" shows the renormalised probability only when top-k or top-p cut something.
function renderFormula(P, top, anyCut) {
  if (state.T === 0) { $("formula-numbers").innerHTML = "<p class=\"filled\">" + esc(word("greedyFormula")) + "</p>"; return; }
  var T = Math.fround(state.T), z = state.logits, total = 0;
  for (var i = 0; i < z.length; i++) { total += Math.exp(z[i] / T); }
  var html = "";
  top.forEach(function (i) {
    var e = Math.exp(z[i] / T);
    html += "<div class=\"filled formula\">P(“" + esc(visible(D.vocab[i])) + "”) = <span class=\"frac\"><span>e<sup>" +
      fixed(z[i], 2) + " / " + fixed(T, 2) + "</sup></span><span class=\"den\">" + Number(total.toPrecision(4)) +
      "</span></span> = <span class=\"frac\"><span>" + Number(e.toPrecision(4)) + "</span><span class=\"den\">" +
      Number(total.toPrecision(4)) + "</span></span> = " + fixed(e / total, 3) +
      (anyCut ? " → " + fixed(P[i], 3) : "") + "</div>";
  });
  $("formula-numbers").innerHTML = html;
}
// The kept probabilities end to end from 0 to 1, in id order, as Sampler.pick walks them.
function renderStrip(P, u) {
  var width = 640, height = 52, x = 0, svg = "", n = 0;
  for (var i = 0; i < P.length; i++) {
    if (P[i] <= 0) { continue; }
    var w = P[i] * width;
    svg += "<rect x=\"" + x.toFixed(2) + "\" y=\"6\" width=\"" + w.toFixed(2) + "\" height=\"24\" fill=\"" +
      PALETTE[n % PALETTE.length] + "\" fill-opacity=\"0.75\"><title>" + esc(visible(D.vocab[i])) + " " + fixed(P[i], 4) + "</title></rect>";
    if (w > 13) {
      svg += "<text x=\"" + (x + w / 2).toFixed(2) + "\" y=\"23\" font-size=\"13\" text-anchor=\"middle\" fill=\"#fff\">" +
        esc(visible(D.vocab[i])) + "</text>";
    }
    x += w;
    n++;
  }
  svg += "<text x=\"0\" y=\"46\" font-size=\"11\" fill=\"#555\">0</text><text x=\"" + width + "\" y=\"46\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">1</text>";
  if (u !== null) {
    svg += "<line x1=\"" + (u * width).toFixed(2) + "\" y1=\"0\" x2=\"" + (u * width).toFixed(2) + "\" y2=\"34\" stroke=\"" + PALETTE[3] + "\" stroke-width=\"2.5\"/>" +
      "<text x=\"" + Math.min(width - 40, Math.max(20, u * width)).toFixed(2) + "\" y=\"46\" font-size=\"12\" text-anchor=\"middle\" fill=\"" + PALETTE[3] + "\">u = " + fixed(u, 3) + "</text>";
  }
  $("strip").innerHTML = "<svg width=\"" + width + "\" height=\"" + height +
    "\" font-family=\"" + FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
}
function draw() {
  if (state.query !== promptTokens.length - 1) { selectPosition(promptTokens.length - 1); }
  var P = currentDistribution(), chosen = 0, a = 0, b = 0, u = null;
  if (state.T === 0) {
    for (var i = 1; i < P.length; i++) { if (P[i] > P[chosen]) { chosen = i; } }
    $("draw-result").textContent = word("drawGreedy", { c: visible(D.vocab[chosen]) });
  } else {
    u = Math.random();
    var cumulative = 0, last = 0, found = false;
    for (var j = 0; j < P.length && !found; j++) {
      if (P[j] <= 0) { continue; }
      a = cumulative;
      cumulative += P[j];
      last = j;
      if (u < cumulative) { chosen = j; b = cumulative; found = true; }
    }
    if (!found) { chosen = last; b = cumulative; }
    $("draw-result").textContent = word("drawResult", { u: fixed(u, 3), c: visible(D.vocab[chosen]), a: fixed(a, 3), b: fixed(b, 3) });
  }
  state.lastDraw = { u: u, chosen: chosen };
  if (MODEL) {
    state.text.push(chosen);
    setTrace(runModel(state.text.slice(-D.context)));
  } else {
    state.drawn.push(chosen);
    $("draw").disabled = true;
    $("need-model").hidden = false;
  }
  renderDrawn();
  renderStrip(P, u);
}
// Shows a new trace (from the model in the page) in every section.
function setTrace(tr) {
  D.tokens = tr.tokens;
  D.logits = tr.logits;
  D.attention = tr.attention;
  D.summaries = tr.summaries;
  D.stages = tr.stages;
  promptTokens = tr.tokens.slice();
  state.logits = tr.logits;
  state.query = promptTokens.length - 1;
  $("next-position").textContent = "";
  renderPrompt();
  renderNext();
  renderAttention();
  renderHeads();
  renderStream();
}
// Runs the model on typed text; a character outside the vocabulary is reported in the page.
function runText(text) {
  var ids = [], chars = Array.from(text), message = "";
  for (var i = 0; i < chars.length && !message; i++) {
    var id = D.vocab.indexOf(chars[i]);
    if (id < 0) { message = word("unknownCharacter", { c: visible(chars[i]) }); }
    ids.push(id);
  }
  if (!chars.length) { message = word("emptyPrompt"); }
  $("prompt-error").textContent = message;
  if (message) { return false; }
  state.text = ids;
  state.drawnFrom = ids.length;
  state.drawn = [];
  $("draw-result").textContent = "";
  setTrace(runModel(ids.slice(-D.context)));
  renderDrawn();
  return true;
}
function renderDrawn() {
  var html = "";
  state.text.forEach(function (id, i) {
    html += i < state.drawnFrom ? esc(visible(D.vocab[id])) : "<span class=\"ch drawn\">" + esc(visible(D.vocab[id])) + "</span>";
  });
  state.drawn.forEach(function (id) { html += "<span class=\"ch drawn\">" + esc(visible(D.vocab[id])) + "</span>"; });
  $("drawn").innerHTML = html;
}
function resetDraws() {
  if (MODEL && state.text.length > state.drawnFrom) {
    state.text = state.text.slice(0, state.drawnFrom);
    setTrace(runModel(state.text.slice(-D.context)));
  }
  state.drawn = [];
  state.lastDraw = null;
  $("draw").disabled = false;
  $("need-model").hidden = true;
  $("draw-result").textContent = "";
  renderDrawn();
  renderNext();
}

// MARK: - 5. Continuations at several temperatures (when the page carries a sweep)

function temperatureLabel(t) { return t === 0 ? "T = 0 (" + word("greedy") + ")" : "T = " + t; }
function sampleStats(s) {
  var parts = [];
  if (s.logp !== null) { parts.push(word("meanLogP", { v: fixed(s.logp, 2) })); }
  parts.push(word("distinct", { v: fixed(s.distinct, 2) }));
  parts.push(word("repeat", { v: s.repeat }));
  return parts.join(" · ");
}
function averageStats(samples) {
  var n = samples.length, logs = samples.filter(function (s) { return s.logp !== null; });
  function mean(list, f) { return list.reduce(function (a, s) { return a + f(s); }, 0) / list.length; }
  var parts = [word("sampleCount", { n: n })];
  if (logs.length) { parts.push(word("meanLogP", { v: fixed(mean(logs, function (s) { return s.logp; }), 2) })); }
  parts.push(word("distinct", { v: fixed(mean(samples, function (s) { return s.distinct; }), 2) }));
  parts.push(word("repeat", { v: fixed(mean(samples, function (s) { return s.repeat; }), 1) }));
  return word("average") + ": " + parts.join(" · ");
}
// As Markup.visibleKeepingLines: newlines and spaces stay themselves, other controls are made visible.
function visibleText(text) {
  return Array.from(text).map(function (c) { return c === "\n" || c === " " ? c : visible(c); }).join("");
}
function renderSweep() {
  if (!D.sweep) { return; }
  var row = "", columns = "", given = esc(visibleText(D.sweep.prompt));
  D.sweep.temperatures.forEach(function (t, i) {
    row += " <button type=\"button\" class=\"temp-button\" data-temperature=\"" + t + "\" data-index=\"" + i + "\">" +
      esc(temperatureLabel(t)) + "</button>";
    var samples = D.sweep.samples[i];
    columns += "<div class=\"sweep-column\"><h3>" + esc(temperatureLabel(t)) + "</h3><p class=\"stats\">" +
      esc(word("entropyBits", { h: fixed(entropyBits(distribution(sweepLogits, t, V, 1)), 2) })) + " · " +
      "<button type=\"button\" class=\"temp-button\" data-temperature=\"" + t + "\" data-index=\"" + i + "\">" +
      esc(word("showT", { t: t })) + "</button></p>" +
      (samples.length > 1 ? "<p class=\"stats\">" + esc(averageStats(samples)) + "</p>" : "");
    samples.forEach(function (s) {
      columns += "<div class=\"sample mono\"><span class=\"given\">" + given + "</span>" + esc(visibleText(s.text)) + "</div>" +
        "<div class=\"stats\">" + esc(sampleStats(s)) + "</div>";
    });
    columns += "</div>";
  });
  $("sweep-button-row").innerHTML = row;
  $("sweep-columns").innerHTML = columns;
  controls();
}
// Sets the page's own temperature slider to the sweep's I-th temperature.
function showSweepTemperature(i) {
  setSlider("temperature", D.sweep.temperatures[i]);
}

// MARK: - 2. Attention, step by step

function matrixGeometry(T, side) {
  var cell = Math.min(22, side / T);
  var margin = cell >= 8 ? 22 : 2;
  return { cell: cell, left: margin, top: margin, width: margin + T * cell + 4, height: margin + T * cell + 4 };
}
function drawMatrix(canvas, l, h, side, selectedRow) {
  var T = promptTokens.length, g = matrixGeometry(T, side), ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(g.width * ratio);
  canvas.height = Math.round(g.height * ratio);
  canvas.style.width = g.width + "px";
  canvas.style.height = g.height + "px";
  var ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.fillStyle = "#eeeeee";
  ctx.fillRect(g.left, g.top, T * g.cell, T * g.cell);
  for (var t = 0; t < T; t++) {
    for (var j = 0; j <= t; j++) {
      ctx.fillStyle = colour(weight(l, h, t, j));
      ctx.fillRect(g.left + j * g.cell, g.top + t * g.cell, g.cell, g.cell);
    }
  }
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.strokeRect(g.left - 0.5, g.top - 0.5, T * g.cell + 1, T * g.cell + 1);
  if (g.cell >= 8) {
    ctx.fillStyle = "#222";
    ctx.font = Math.min(14, Math.round(g.cell * 0.72)) + "px " + FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    promptTokens.forEach(function (id, i) {
      var c = visible(D.vocab[id]);
      ctx.fillText(c, g.left + (i + 0.5) * g.cell, g.top / 2);
      ctx.fillText(c, g.left / 2, g.top + (i + 0.5) * g.cell);
    });
  }
  if (selectedRow !== null) {
    ctx.strokeStyle = PALETTE[1];
    ctx.lineWidth = 2;
    ctx.strokeRect(g.left - 1, g.top + selectedRow * g.cell - 1, T * g.cell + 2, g.cell + 2);
  }
  return g;
}
function renderAttention() {
  var l = state.layer, h = state.head, t = state.query, T = promptTokens.length;
  $("layer").value = String(l);
  $("head").value = String(h);
  var s = D.summaries[l][h];
  $("head-summary").textContent = "→ " + word(s.pattern) + " · " + word("share", { p: percent(s.share) });
  drawMatrix($("matrix"), l, h, 520, t);
  $("query-title").textContent = word("queryIs", { t: t, c: visible(D.vocab[promptTokens[t]]) });
  var root = Math.sqrt(D.headWidth);
  var maxValue = 1e-12;
  for (var j = 0; j <= t; j++) { maxValue = Math.max(maxValue, valueSize(l, h, t, j)); }
  var html = "<tr><th>" + esc(word("colKey")) + "</th><th class=\"c\">" + esc(word("colChar")) + "</th><th>" +
    esc(word("colScore")) + "</th><th>" + esc(word("colScaled")) + "</th><th class=\"c\">" + esc(word("colMask")) +
    "</th><th>" + esc(word("colWeight")) + "</th><th style=\"text-align:left\">" + esc(word("colValue")) + "</th></tr>";
  var sum = 0;
  for (j = 0; j <= t; j++) {
    var w = weight(l, h, t, j), v = valueSize(l, h, t, j);
    sum += w;
    html += "<tr" + (w >= 0.1 ? " class=\"strong\"" : "") + "><td>" + j + "</td><td class=\"c\">" + esc(visible(D.vocab[promptTokens[j]])) + "</td><td>" +
      fixed(score(l, h, t, j), 2) + "</td><td>" + fixed(score(l, h, t, j) / root, 2) + "</td><td class=\"c\">0</td><td>" +
      "<span class=\"mini attn\" style=\"width:" + Math.round(60 * w) + "px\"></span> " + fixed(w, 3) + "</td><td style=\"text-align:left\">" +
      "<span class=\"mini\" style=\"width:" + Math.round(80 * v / maxValue) + "px\"></span> " + fixed(v, 2) + "</td></tr>";
  }
  if (t + 1 < T) {
    html += "<tr class=\"masked\"><td>" + (t + 1) + "…" + (T - 1) + "</td><td class=\"c\">…</td><td>·</td><td>·</td><td class=\"c\">−∞</td><td>0</td><td style=\"text-align:left\">" +
      esc(word("maskedRows", { a: t + 1, b: T - 1 })) + "</td></tr>";
  }
  $("row-table").className = "grid";
  $("row-table").innerHTML = html;
  $("row-sum").textContent = word("rowSum", { s: fixed(sum, 3) }) + " · " + word("strongest");
  var strong = $("row-table").querySelector("tr.strong");
  if (strong) { $("row-table").parentNode.scrollTop = Math.max(0, strong.offsetTop - 60); }
  $("why-sqrt").textContent = word("whySqrt", { d: D.headWidth, s: fixed(root, 2) });
  renderFlow(l, h, t);
  highlightHeadCard();
  renderQKV();
}
// The Q/K/V flow for the chosen query, with its strongest key as the example.
function renderFlow(l, h, t) {
  var best = 0;
  for (var j = 0; j <= t; j++) { if (weight(l, h, t, j) > weight(l, h, t, best)) { best = j; } }
  var ct = visible(D.vocab[promptTokens[t]]), cj = visible(D.vocab[promptTokens[best]]);
  var root = Math.sqrt(D.headWidth);
  var boxes = [
    [10, 10, 120, "x_" + t + " “" + ct + "”", "#f3f4f6"], [170, 10, 90, "× W_Q → q", themed("--scale-1")],
    [10, 70, 120, "x_j (j ≤ " + t + ")", "#f3f4f6"], [170, 70, 90, "× W_K → k", "#fdd0a2"],
    [170, 130, 90, "× W_V → v", "#c7e9c0"],
    [300, 40, 150, "q·k / √" + D.headWidth, "#eef3fb"], [490, 40, 120, word("flowMask"), "#eef3fb"],
    [490, 130, 120, "∑ a_j v_j", "#eef3fb"], [650, 130, 100, word("flowOut"), "#f3f4f6"]
  ];
  var svg = "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker></defs>";
  boxes.forEach(function (b) {
    svg += "<rect x=\"" + b[0] + "\" y=\"" + b[1] + "\" width=\"" + b[2] + "\" height=\"34\" rx=\"6\" fill=\"" + b[4] + "\" stroke=\"#888\"/>" +
      "<text x=\"" + (b[0] + b[2] / 2) + "\" y=\"" + (b[1] + 22) + "\" font-size=\"13\" text-anchor=\"middle\">" + esc(b[3]) + "</text>";
  });
  function arrow(x1, y1, x2, y2) {
    svg += "<line x1=\"" + x1 + "\" y1=\"" + y1 + "\" x2=\"" + x2 + "\" y2=\"" + y2 + "\" stroke=\"#666\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>";
  }
  arrow(130, 27, 168, 27); arrow(130, 87, 168, 87); arrow(130, 92, 168, 142);
  arrow(260, 27, 298, 52); arrow(260, 87, 298, 62); arrow(450, 57, 488, 57);
  arrow(550, 74, 550, 128); arrow(260, 147, 488, 147); arrow(610, 147, 648, 147);
  svg += "<text x=\"300\" y=\"104\" font-size=\"12\" fill=\"#555\">" + esc(word("flowSearch")) + "</text>";
  svg += "<text x=\"300\" y=\"186\" font-size=\"12\" fill=\"#555\">" + esc(word("flowTake")) + "</text>";
  svg += "<text x=\"620\" y=\"30\" font-size=\"12\" fill=\"" + PALETTE[3] + "\">j = " + best + " “" + esc(cj) + "”: q·k = " +
    fixed(score(l, h, t, best), 2) + ", ÷" + fixed(root, 2) + " = " + fixed(score(l, h, t, best) / root, 2) + "</text>";
  svg += "<text x=\"620\" y=\"48\" font-size=\"12\" fill=\"" + PALETTE[3] + "\">a = " + fixed(weight(l, h, t, best), 3) + "</text>";
  // Scales down with the page (viewBox), so it never runs past a narrow window.
  $("flow").innerHTML = "<svg viewBox=\"0 0 900 196\" width=\"900\" height=\"196\" style=\"max-width:100%;height:auto\" font-family=\"" +
    FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
}

// MARK: - 3. Many heads

function renderHeads() {
  var grid = $("head-grid");
  grid.innerHTML = "";
  for (var l = 0; l < L; l++) {
    for (var h = 0; h < H; h++) {
      var card = document.createElement("div");
      card.className = "head-card";
      card.setAttribute("data-layer", l);
      card.setAttribute("data-head", h);
      var canvas = document.createElement("canvas");
      card.appendChild(canvas);
      drawMatrix(canvas, l, h, 136, null);
      var s = D.summaries[l][h];
      var caption = document.createElement("div");
      caption.innerHTML = "<div>" + esc(word("layerHead", { l: l, h: h })) + "</div><div class=\"what\">" +
        esc(word(s.pattern)) + "</div><div class=\"note\">" + esc(word("share", { p: percent(s.share) })) + "</div>" +
        strongestSingle(s);
      card.appendChild(caption);
      grid.appendChild(card);
    }
  }
  highlightHeadCard();
}
// Under a broad pattern (last three, even, mixed), the strongest single kind of position.
function strongestSingle(s) {
  var single = ["previousCharacter", "itself", "sameCharacterEarlier", "afterSameCharacter", "lastSpace", "startOfWord", "startOfLine", "firstPosition"];
  if (single.indexOf(s.pattern) >= 0) { return ""; }
  var best = null;
  single.forEach(function (p) { if (p in s.shares && (best === null || s.shares[p] > s.shares[best])) { best = p; } });
  return best === null ? "" : "<div class=\"note\">" + esc(word("strongestSingle", { what: word(best), p: percent(s.shares[best]) })) + "</div>";
}
function highlightHeadCard() {
  var cards = document.querySelectorAll(".head-card");
  for (var i = 0; i < cards.length; i++) {
    var on = Number(cards[i].getAttribute("data-layer")) === state.layer && Number(cards[i].getAttribute("data-head")) === state.head;
    cards[i].className = "head-card" + (on ? " selected" : "");
  }
}

// MARK: - 4. The residual stream

function renderStream() {
  // A model without skip connections replaces the stream at every block: other words and formula.
  var plain = D.residual === false;
  $("stream-intro").textContent = word(plain ? "s4IntroNoResidual" : "s4Intro");
  $("stream-formula").hidden = plain;
  $("stream-formula-plain").hidden = !plain;
  var t = state.query, K = D.stages[0].lensIds.length / promptTokens.length;
  $("position-title").textContent = word("positionIs", { t: t, c: visible(D.vocab[promptTokens[t]]) });
  var biggest = 1e-12;
  D.stages.forEach(function (s) {
    biggest = Math.max(biggest, s.x[t], s.attn.length ? s.attn[t] : 0, s.mlp.length ? s.mlp[t] : 0);
  });
  function bar(cls, v) { return "<span class=\"mini " + cls + "\" style=\"width:" + Math.round(90 * v / biggest) + "px\"></span> " + fixed(v, 2); }
  var html = "<tr><th style=\"text-align:left\">" + esc(word("colStage")) + "</th><th style=\"text-align:left\">" + esc(word("colSize")) +
    "</th><th style=\"text-align:left\">" + esc(word(plain ? "colAttnOut" : "colAttn")) + "</th><th style=\"text-align:left\">" + esc(word(plain ? "colMlpOut" : "colMlp")) +
    "</th><th style=\"text-align:left\">" + esc(word("colLens")) + "</th></tr>";
  D.stages.forEach(function (s, i) {
    var name = s.block === null ? word("embedding") : word("afterBlock", { n: s.block });
    var lens = "";
    for (var r = 0; r < K; r++) {
      lens += "<span class=\"lens\">" + esc(visible(D.vocab[s.lensIds[t * K + r]])) + " " + fixed(s.lensP[t * K + r], 2) + "</span>";
    }
    var last = i === D.stages.length - 1;
    html += "<tr" + (last ? " style=\"font-weight:600\"" : "") + "><td>" + esc(name) + "</td><td>" + bar("size", s.x[t]) + "</td><td>" +
      (s.attn.length ? bar("attn", s.attn[t]) : "") + "</td><td>" + (s.mlp.length ? bar("", s.mlp[t]) : "") + "</td><td>" + lens + "</td></tr>";
  });
  $("stream-table").className = "grid";
  $("stream-table").innerHTML = html;
}

// MARK: - Wiring

function renderAll() {
  renderHeader();
  renderPrompt();
  renderSweep();
  renderNext();
  renderDrawn();
  renderAttention();
  renderHeads();
  renderStream();
  renderLearning();
}
// The logits for the character after position t: the page's own for the last position; else
// the model in the page runs on the prefix, or the page carries every position's logits.
function logitsAt(t) {
  if (t === promptTokens.length - 1) { return D.logits; }
  if (MODEL) { return runModel(promptTokens.slice(0, t + 1)).logits; }
  if (D.positionLogits) { return D.positionLogits.slice(t * V, (t + 1) * V); }
  return null;
}
function selectPosition(t) {
  state.query = t;
  var z = logitsAt(t);
  if (z) { state.logits = z; }
  $("next-position").textContent = t === promptTokens.length - 1 || !z ? "" :
    word("nextAfter", { t: t, c: visible(D.vocab[promptTokens[t]]) });
  renderNext();
  renderPrompt();
  renderAttention();
  renderStream();
}
function fillSelect(select, count) {
  var html = "";
  for (var i = 0; i < count; i++) { html += "<option value=\"" + i + "\">" + i + "</option>"; }
  select.innerHTML = html;
}
function readSliders() {
  state.T = parseFloat($("temperature").value);
  state.k = kFromSlider(parseInt($("top-k").value, 10));
  state.p = parseFloat($("top-p").value);
}
function setSlider(id, value) {
  var input = $(id);
  input.value = String(value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}
function setup() {
  setupLearning();
  $("top-k").max = String(K_STEPS);
  $("top-k").value = String(K_STEPS);
  fillSelect($("layer"), L);
  fillSelect($("head"), H);
  ["temperature", "top-k", "top-p"].forEach(function (id) {
    $(id).addEventListener("input", function () { readSliders(); renderNext(); });
  });
  $("layer").addEventListener("change", function () { state.layer = Number($("layer").value); renderAttention(); });
  $("head").addEventListener("change", function () { state.head = Number($("head").value); renderAttention(); });
  $("prompt").addEventListener("click", function (e) {
    var pos = e.target.getAttribute && e.target.getAttribute("data-pos");
    if (pos !== null && pos !== undefined) { selectPosition(Number(pos)); }
  });
  $("matrix").addEventListener("click", function (e) {
    var g = matrixGeometry(promptTokens.length, 520), rect = $("matrix").getBoundingClientRect();
    var row = Math.floor((e.clientY - rect.top - g.top) / g.cell);
    if (row >= 0 && row < promptTokens.length) { selectPosition(row); }
  });
  $("head-grid").addEventListener("click", function (e) {
    var card = e.target.closest ? e.target.closest(".head-card") : null;
    if (!card) { return; }
    state.layer = Number(card.getAttribute("data-layer"));
    state.head = Number(card.getAttribute("data-head"));
    renderAttention();
    $("attention").scrollIntoView();
  });
  $("switch-lang").addEventListener("click", function () { state.lang = state.lang === "zh" ? "en" : "zh"; renderAll(); });
  $("draw").addEventListener("click", draw);
  if (MODEL) {
    $("model-box").hidden = false;
    $("prompt-input").value = state.text.map(function (id) { return D.vocab[id]; }).join("");
    $("run").addEventListener("click", function () { runText($("prompt-input").value); });
  }
  $("reset").addEventListener("click", resetDraws);
  if (D.sweep) {
    // The slider reaches every compared temperature exactly, and opens at the first.
    var temperatures = D.sweep.temperatures, slider = $("temperature");
    slider.max = String(Math.max(2, Math.max.apply(null, temperatures)));
    if (temperatures.some(function (t) { return Math.abs(t * 20 - Math.round(t * 20)) > 1e-6; })) { slider.step = "any"; }
    slider.value = String(temperatures[0]);
    readSliders();
    $("sweep").hidden = false;
    $("sweep-buttons").hidden = false;
    document.body.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest(".temp-button") : null;
      if (!button) { return; }
      showSweepTemperature(Number(button.getAttribute("data-index")));
      if (button.parentNode.id !== "sweep-button-row") { $("next").scrollIntoView(); }
    });
  }
}
function applyHash() {
  var hash = window.location.hash.replace(/^#/, "");
  if (!hash) { return; }
  hash.split("&").forEach(function (part) {
    var at = part.indexOf("="), key = part.slice(0, at), value = decodeURIComponent(part.slice(at + 1));
    if (key === "lang" && WORDS[value]) { state.lang = value; renderAll(); }
    if (key === "prompt" && MODEL) {
      $("prompt-input").value = value;
      runText(value);
      $("check-result").textContent = JSON.stringify({ logits: state.logits });
    }
    if (key === "draw") {
      for (var n = 0; n < Number(value); n++) { if (!$("draw").disabled) { $("draw").click(); } }
    }
    if (key === "head") {
      var lh = value.split(",");
      state.layer = Math.min(L - 1, Number(lh[0]) || 0);
      state.head = Math.min(H - 1, Number(lh[1]) || 0);
      renderAttention();
    }
    if (key === "query") { selectPosition(Math.max(0, Math.min(promptTokens.length - 1, Number(value) || 0))); }
    if (key === "show") {
      ["next", "sweep", "attention", "heads", "stream", "loss", "learn"].forEach(function (id) {
        $(id).hidden = id !== value && !(id === "attention" && value === "qkv");
      });
      if (value === "qkv") {
        Array.prototype.forEach.call($("attention").children, function (e) {
          if (!(e.id === "qkv" || e.tagName === "H2" || e.className === "controls")) { e.style.display = "none"; }
        });
      }
    }
    learningHash(key, value);
    if (key === "sweep" && D.sweep) {
      var button = document.querySelector("#sweep-button-row .temp-button[data-index=\"" + Number(value) + "\"]");
      if (button) { button.click(); }
    }
    if (key === "state") {
      var flow = $("flow");
      $("state-result").textContent = JSON.stringify({
        layer: state.layer, head: state.head, query: state.query, k: state.k, sliderK: Number($("top-k").value),
        arrows: ($("formula-numbers").textContent.match(/→/g) || []).length,
        nextOrder: Array.prototype.map.call(document.querySelectorAll("#bars .label"), function (e) { return e.textContent; }),
        sweepButtonsShown: window.getComputedStyle($("sweep-buttons")).display !== "none",
        flowOverflows: flow.scrollWidth > flow.clientWidth + 1 || flow.getBoundingClientRect().right > document.documentElement.clientWidth + 1
      });
    }
    if (key === "check") {
      var results = value.split(";").map(function (one) {
        var settings = {};
        one.split(",").forEach(function (kv) { var p = kv.split("="); settings[p[0]] = parseFloat(p[1]); });
        if ("T" in settings) { setSlider("temperature", settings.T); }
        if ("k" in settings) { setSlider("top-k", sliderFromK(settings.k)); }
        if ("p" in settings) { setSlider("top-p", settings.p); }
        var P = renderNext();
        return { T: state.T, k: state.k, p: state.p, probabilities: P, entropy: entropyBits(P) };
      });
      $("check-result").textContent = JSON.stringify(results);
    }
  });
}

setup();
renderAll();
applyHash();
window.addEventListener("hashchange", applyHash);
})();
