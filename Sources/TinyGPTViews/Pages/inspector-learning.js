// The inspector's learning half (issue 19), inside the page script's scope: the loss on the
// prompt, Q/K/V as vectors, and one step of learning. Every number comes from the page's
// data (GPT.learningStep and GPT.trace in Swift); the script only arranges and sums them.
//
// Test hook, in the URL's fragment (besides the page's own):
//   lpos=T        choose position T of the loss (it predicts character T + 1), through a click
//   eta=I         choose the I-th rung of the η ladder, through its slider
//   show=loss|learn   only that section (qkv lives in the attention section)
//   learncheck=1  write what the learning sections show as JSON into <pre id="check-result">

var LEARN = D.learning || null;
var QKV = D.qkv ? D.qkv.map(function (layer) { return { x: floats(layer.x), qkv: floats(layer.qkv) }; }) : null;
var qkvTokens = D.tokens.slice();
var learn = { pos: LEARN ? LEARN.p.length - 1 : 0, rung: 0 };
if (LEARN) {
  // Open the ladder at the rung that lowers the loss most.
  LEARN.ladder.forEach(function (r, i) { if (r.after < LEARN.ladder[learn.rung].after) { learn.rung = i; } });
}

function floats(base64) {
  var text = atob(base64), bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  var view = new DataView(bytes.buffer), out = new Float32Array(bytes.length / 4);
  for (var j = 0; j < out.length; j++) { out[j] = view.getFloat32(4 * j, true); }
  return out;
}
function sig(x, n) {
  if (x === 0) { return "0"; }
  var a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) { return String(Number(x.toPrecision(n))); }
  var e = Math.floor(Math.log10(a)), m = x / Math.pow(10, e);
  return Number(m.toPrecision(n)) + "×10<sup>" + e + "</sup>";
}
function sigText(x, n) { return sig(x, n).replace("×10<sup>", "e").replace("</sup>", ""); }
function etaLabel(eta) { return String(eta); }
// White → yellow → red for surprise (−ln p), a second scale so it is not read as attention.
function heat(t) {
  var stops = [[255, 255, 255], [254, 224, 139], [252, 141, 89], [215, 48, 39], [127, 0, 0]];
  t = isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  var pos = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(pos)), f = pos - i;
  var a = stops[i], b = stops[i + 1];
  function mix(u, v) { return Math.round(u + (v - u) * f); }
  return "rgb(" + mix(a[0], b[0]) + "," + mix(a[1], b[1]) + "," + mix(a[2], b[2]) + ")";
}
// Blue for negative, red for positive numbers in a strip of a vector.
function diverging(x, scale) {
  var t = Math.max(-1, Math.min(1, x / scale));
  var r = t > 0 ? 255 : Math.round(255 + 222 * t * 0.8), g = Math.round(255 - 170 * Math.abs(t)), b = t < 0 ? 255 : Math.round(255 - 222 * t * 0.8);
  return "rgb(" + r + "," + g + "," + b + ")";
}
function learnWord(key, fill) { return word(key, fill); }
function promptIsTheTraced() {
  return promptTokens.length === qkvTokens.length && promptTokens.every(function (id, i) { return id === qkvTokens[i]; });
}

// MARK: - Markup of the three new parts

function setupLearning() {
  Object.keys(LEARN_WORDS).forEach(function (lang) {
    Object.keys(LEARN_WORDS[lang]).forEach(function (key) { WORDS[lang][key] = LEARN_WORDS[lang][key]; });
  });
  var loss = document.createElement("section");
  loss.id = "loss";
  loss.innerHTML = "<h2 data-t=\"lossTitle\"></h2><p class=\"note\" data-t=\"lossIntro\"></p>" +
    "<div class=\"formula\">L = <span class=\"frac\"><span>1</span><span class=\"den\">N</span></span> ∑<sub>t</sub> −ln p<sub>t</sub>(" +
    "<span data-t=\"nextChar\"></span><sub>t</sub>)</div>" +
    "<div class=\"row\"><div class=\"card grow\"><p class=\"note\" data-t=\"surpriseHint\"></p><p id=\"surprise\" class=\"prompt mono\"></p>" +
    "<p id=\"loss-position\" class=\"filled\"></p></div>" +
    "<div class=\"card narrow\"><p><b data-t=\"lossMean\"></b>: <span id=\"loss-mean\" class=\"big\"></span></p>" +
    "<div id=\"loss-baselines\"></div><p class=\"note\" data-t=\"lossBaselinesNote\"></p></div></div>" +
    "<div class=\"card\"><div id=\"loss-chart\"></div></div>";
  $("next").parentNode.insertBefore(loss, $("next").nextSibling);

  var qkv = document.createElement("div");
  qkv.className = "card";
  qkv.id = "qkv";
  qkv.innerHTML = "<h3 data-t=\"qkvTitle\"></h3><p class=\"note\" data-t=\"qkvIntro\"></p>" +
    "<div class=\"formula\">x = LN<sub>1</sub>(x<sub>t</sub>), \u2003 q = W<sub>Q</sub>·x + b<sub>Q</sub>, \u2003 k<sub>j</sub> = W<sub>K</sub>·x<sub>j</sub> + b<sub>K</sub>, \u2003 v<sub>j</sub> = W<sub>V</sub>·x<sub>j</sub> + b<sub>V</sub></div>" +
    "<div id=\"qkv-body\"></div>";
  $("attention").appendChild(qkv);

  var step = document.createElement("section");
  step.id = "learn";
  step.innerHTML = "<h2 data-t=\"learnTitle\"></h2><p class=\"note\" data-t=\"learnIntro\"></p>" +
    "<div class=\"card\"><h3 data-t=\"gradTitle\"></h3><p class=\"note\" data-t=\"gradIntro\"></p>" +
    "<div class=\"formula\">∂L / ∂z<sub>i</sub> = <span class=\"frac\"><span>1</span><span class=\"den\">N</span></span> (p<sub>i</sub> − y<sub>i</sub>)</div>" +
    "<p id=\"grad-position\" class=\"filled\"></p><div id=\"grad-bars\"></div></div>" +
    "<div class=\"card\"><h3 data-t=\"flowBackTitle\"></h3><p class=\"note\" data-t=\"flowBackIntro\"></p><div id=\"back-flow\"></div>" +
    "<p id=\"back-most\" class=\"filled\"></p></div>" +
    "<div class=\"card\"><h3 data-t=\"ladderTitle\"></h3><p class=\"note\" data-t=\"ladderIntro\"></p>" +
    "<div class=\"formula\">θ ← θ − η·∇L, \u2003 L(θ − η∇L) ≈ L − η‖∇L‖²</div>" +
    "<div class=\"controls\"><label><span>η</span><input type=\"range\" id=\"eta\" min=\"0\" max=\"1\" step=\"1\" value=\"0\"/><output id=\"eta-value\"></output></label></div>" +
    "<div class=\"row\"><div id=\"ladder-chart\"></div><div class=\"grow\"><p id=\"ladder-step\" class=\"filled\"></p><table id=\"ladder-table\" class=\"grid\"></table></div></div>" +
    "<p id=\"ladder-verdict\" class=\"filled\"></p></div>" +
    "<div class=\"card\"><h3 data-t=\"checkTitle\"></h3><p class=\"note\" data-t=\"checkIntro\"></p><table id=\"check-table\" class=\"grid\"></table><p id=\"check-verdict\" class=\"note\"></p></div>";
  $("stream").parentNode.insertBefore(step, $("stream").nextSibling);

  if (!LEARN) { loss.hidden = true; step.hidden = true; }
  if (LEARN) {
    $("eta").max = String(LEARN.ladder.length - 1);
    $("eta").value = String(learn.rung);
    $("eta").addEventListener("input", function () { learn.rung = Number($("eta").value); renderLadder(); });
    $("surprise").addEventListener("click", function (e) {
      var pos = e.target.getAttribute && e.target.getAttribute("data-lpos");
      if (pos !== null && pos !== undefined) { selectLossPosition(Number(pos)); }
    });
    $("loss-chart").addEventListener("click", function (e) {
      var pos = e.target.getAttribute && e.target.getAttribute("data-lpos");
      if (pos !== null && pos !== undefined) { selectLossPosition(Number(pos)); }
    });
  }
}
function selectLossPosition(t) {
  learn.pos = Math.max(0, Math.min(LEARN.p.length - 1, t));
  renderLoss();
  renderGradient();
}

// MARK: - The loss on the prompt

function renderLoss() {
  if (!LEARN) { return; }
  var N = LEARN.p.length, tokens = qkvTokens, top = Math.max(4, Math.log(V));
  var html = "<span class=\"ch ws\" title=\"" + esc(learnWord("noPrediction")) + "\">" + esc(visible(D.vocab[tokens[0]])) + "</span>";
  for (var t = 0; t < N; t++) {
    var s = LEARN.nll[t], dark = s / top > 0.55;
    html += "<span class=\"ch" + (t === learn.pos ? " picked" : "") + "\" data-lpos=\"" + t + "\" style=\"background:" + heat(s / top) +
      (dark ? ";color:#fff" : "") + "\" title=\"p = " + fixed(LEARN.p[t], 4) + ", −ln p = " + fixed(s, 3) + "\">" +
      esc(visible(D.vocab[tokens[t + 1]])) + "</span>";
  }
  $("surprise").innerHTML = html;
  $("loss-mean").textContent = fixed(LEARN.loss, 4);
  // The mean beside what a learner knows from train: a uniform guess and the counting models.
  var rows = [[learnWord("thisModel"), LEARN.loss, "#d62728"], [learnWord("uniform", { v: V }), LEARN.uniform, "#999"]];
  LEARN.baselines.forEach(function (b) { rows.push([learnWord("baseline", { name: b.name }), b.loss, "#7f7f7f"]); });
  var most = Math.max.apply(null, rows.map(function (r) { return r[1]; }));
  $("loss-baselines").innerHTML = rows.map(function (r) {
    return "<div class=\"bar-row\"><span class=\"label wide\">" + esc(r[0]) + "</span><span class=\"track\"><span class=\"fill\" style=\"display:block;background:" +
      r[2] + ";width:" + (100 * r[1] / most).toFixed(1) + "%\"></span></span><span class=\"value\">" + fixed(r[1], 4) + "</span></div>";
  }).join("");
  // Each position's −ln p as a bar, the mean as a line.
  var width = Math.max(320, Math.min(1080, N * 16)), height = 150, bw = width / N, svg = "";
  var scale = Math.max(top, Math.max.apply(null, LEARN.nll));
  for (t = 0; t < N; t++) {
    var h = 110 * LEARN.nll[t] / scale;
    svg += "<rect data-lpos=\"" + t + "\" x=\"" + (t * bw + 1).toFixed(1) + "\" y=\"" + (120 - h).toFixed(1) + "\" width=\"" + Math.max(1, bw - 2).toFixed(1) +
      "\" height=\"" + h.toFixed(1) + "\" fill=\"" + (t === learn.pos ? "#2171b5" : heat(LEARN.nll[t] / top)) + "\" stroke=\"#c9ccd1\"><title>" +
      t + " → “" + esc(visible(D.vocab[tokens[t + 1]])) + "” −ln p = " + fixed(LEARN.nll[t], 3) + "</title></rect>";
    if (bw >= 11) {
      svg += "<text x=\"" + ((t + 0.5) * bw).toFixed(1) + "\" y=\"136\" font-size=\"11\" text-anchor=\"middle\">" + esc(visible(D.vocab[tokens[t + 1]])) + "</text>";
    }
  }
  var y = 120 - 110 * LEARN.loss / scale;
  svg += "<line x1=\"0\" x2=\"" + width + "\" y1=\"" + y.toFixed(1) + "\" y2=\"" + y.toFixed(1) + "\" stroke=\"#d62728\" stroke-dasharray=\"5,3\"/>" +
    "<text x=\"" + (width - 4) + "\" y=\"" + (y - 4).toFixed(1) + "\" font-size=\"12\" text-anchor=\"end\" fill=\"#d62728\">L = " + fixed(LEARN.loss, 3) + "</text>" +
    "<text x=\"2\" y=\"149\" font-size=\"11\" fill=\"#555\">" + esc(learnWord("lossAxis")) + "</text>";
  $("loss-chart").innerHTML = "<svg width=\"" + width + "\" height=\"" + height + "\" font-family=\"" + FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
  var t0 = learn.pos;
  $("loss-position").innerHTML = esc(learnWord("lossAt", {
    t: t0, before: visible(D.vocab[tokens[t0]]), c: visible(D.vocab[tokens[t0 + 1]]), p: fixed(LEARN.p[t0], 4), s: fixed(LEARN.nll[t0], 3)
  }));
}

// MARK: - Q, K, V as vectors

function vectorOf(l, h, t, part) {
  var C = D.width, hs = D.headWidth, start = t * 3 * C + part * C + h * hs;
  return QKV[l].qkv.subarray(start, start + hs);
}
function strip(values, label, cls, scale, shown) {
  var cells = "";
  for (var i = 0; i < values.length; i++) {
    cells += "<span class=\"cell\" style=\"background:" + diverging(values[i], scale) + "\" title=\"" + label + "[" + i + "] = " + fixed(values[i], 4) + "\"></span>";
  }
  var numbers = [];
  for (i = 0; i < Math.min(shown, values.length); i++) { numbers.push(fixed(values[i], 3)); }
  return "<div class=\"vec " + cls + "\"><span class=\"vec-label\">" + label + "</span><span class=\"cells\">" + cells + "</span>" +
    (shown > 0 ? "<span class=\"vec-numbers mono\">(" + numbers.join(", ") + (values.length > shown ? ", …" : "") + ")</span>" : "") + "</div>";
}
function renderQKV() {
  var body = $("qkv-body");
  if (!body) { return; }
  if (!QKV || !promptIsTheTraced()) { body.innerHTML = "<p class=\"note\">" + esc(learnWord("qkvStale")) + "</p>"; return; }
  var l = state.layer, h = state.head, t = state.query, C = D.width, hs = D.headWidth;
  var x = QKV[l].x.subarray(t * C, (t + 1) * C), q = vectorOf(l, h, t, 0);
  var scale = 1e-9;
  for (var j = 0; j <= t; j++) {
    [vectorOf(l, h, j, 0), vectorOf(l, h, j, 1), vectorOf(l, h, j, 2)].forEach(function (v) {
      for (var i = 0; i < v.length; i++) { scale = Math.max(scale, Math.abs(v[i])); }
    });
  }
  var ct = visible(D.vocab[promptTokens[t]]);
  var html = "<p class=\"filled\">" + esc(learnWord("qkvInput", { t: t, c: ct, C: C })) + "</p>" + strip(x, "x", "wide-vec", 2.5, 8) +
    "<p class=\"filled\">" + esc(learnWord("qkvQuery", { hs: hs, l: l, h: h })) + "</p>" + strip(q, "q", "", scale, 8);
  // The strongest key, as the example written out.
  var best = 0;
  for (j = 0; j <= t; j++) { if (weight(l, h, t, j) > weight(l, h, t, best)) { best = j; } }
  var rows = "";
  var first = Math.max(0, t - 11);
  for (j = first; j <= t; j++) {
    var k = vectorOf(l, h, j, 1), dot = 0;
    for (var i = 0; i < hs; i++) { dot += q[i] * k[i]; }
    rows += "<div class=\"kv-row" + (j === best ? " best" : "") + "\"><span class=\"kv-pos\">" + j + " “" + esc(visible(D.vocab[promptTokens[j]])) + "”</span>" +
      strip(k, "k<sub>" + j + "</sub>", "", scale, 0) + strip(vectorOf(l, h, j, 2), "v<sub>" + j + "</sub>", "", scale, 0) +
      "<span class=\"kv-num\">q·k = " + fixed(dot, 3) + "</span><span class=\"kv-num\">a = " + fixed(weight(l, h, t, j), 3) + "</span></div>";
  }
  if (first > 0) { rows = "<p class=\"note\">" + esc(learnWord("earlierKeys", { n: first })) + "</p>" + rows; }
  html += "<p class=\"filled\">" + esc(learnWord("qkvKeys")) + "</p><div class=\"kv\">" + rows + "</div>";
  // One q·k written out term by term.
  var kb = vectorOf(l, h, best, 1), terms = [], total = 0;
  for (i = 0; i < hs; i++) { total += q[i] * kb[i]; }
  for (i = 0; i < Math.min(4, hs); i++) { terms.push("(" + fixed(q[i], 3) + ")(" + fixed(kb[i], 3) + ")"); }
  html += "<p class=\"filled\">" + esc(learnWord("qkWritten", { j: best, c: visible(D.vocab[promptTokens[best]]) })) + "</p>" +
    "<div class=\"filled formula\" id=\"qk-terms\">q·k<sub>" + best + "</sub> = " + terms.join(" + ") + (hs > 4 ? " + … " : "") +
    " = " + fixed(total, 3) + " \u2003 ÷ √" + hs + " = " + fixed(total / Math.sqrt(hs), 3) + "</div>" +
    "<p class=\"note\">" + esc(learnWord("qkSame", { s: fixed(score(l, h, t, best), 3) })) + "</p>";
  // The output Σ a_j v_j.
  var out = new Float64Array(hs);
  for (j = 0; j <= t; j++) {
    var a = weight(l, h, t, j), v = vectorOf(l, h, j, 2);
    for (i = 0; i < hs; i++) { out[i] += a * v[i]; }
  }
  html += "<p class=\"filled\">" + esc(learnWord("qkvOutput", { t: t })) + "</p>" + strip(out, "out", "", scale, 8);
  body.innerHTML = html;
  body.setAttribute("data-out", JSON.stringify(Array.prototype.slice.call(out)));
}

// MARK: - One step of learning

function renderGradient() {
  if (!LEARN) { return; }
  var t = learn.pos, K = LEARN.k, N = LEARN.p.length, target = qkvTokens[t + 1];
  var ids = LEARN.cand.slice(t * K, (t + 1) * K), probs = LEARN.candP.slice(t * K, (t + 1) * K);
  if (ids.indexOf(target) < 0) { ids.push(target); probs.push(LEARN.p[t]); }
  $("grad-position").innerHTML = esc(learnWord("gradAt", {
    t: t, c: visible(D.vocab[target]), p: fixed(LEARN.p[t], 4), g: fixed(LEARN.p[t] - 1, 4), n: N
  }));
  var rowH = 22, width = 720, mid = 300, unit = 220, svg = "";
  svg += "<line x1=\"" + mid + "\" x2=\"" + mid + "\" y1=\"0\" y2=\"" + (ids.length * rowH + 4) + "\" stroke=\"#333\"/>";
  ids.forEach(function (id, r) {
    var p = probs[r], g = p - (id === target ? 1 : 0), y = r * rowH + 3;
    svg += "<text x=\"40\" y=\"" + (y + 14) + "\" font-size=\"14\" text-anchor=\"end\"" + (id === target ? " font-weight=\"700\" fill=\"#d62728\"" : "") + ">" +
      esc(visible(D.vocab[id])) + "</text>";
    // p (light) and p − y (strong) from the same zero line: the true character's bar is pulled down by 1.
    svg += "<rect x=\"" + mid + "\" y=\"" + y + "\" width=\"" + (unit * p).toFixed(1) + "\" height=\"8\" fill=\"#c6dbef\"><title>p = " + fixed(p, 4) + "</title></rect>";
    var x0 = g >= 0 ? mid : mid + unit * g;
    svg += "<rect x=\"" + x0.toFixed(1) + "\" y=\"" + (y + 9) + "\" width=\"" + Math.max(0.5, unit * Math.abs(g)).toFixed(1) + "\" height=\"9\" fill=\"" +
      (g < 0 ? "#d62728" : "#1f77b4") + "\"><title>p − y = " + fixed(g, 4) + "</title></rect>";
    svg += "<text x=\"" + (g < 0 ? x0 - 4 : mid + unit * g + 4).toFixed(1) + "\" y=\"" + (y + 17) + "\" font-size=\"11\" text-anchor=\"" + (g < 0 ? "end" : "start") + "\">" +
      fixed(g, 3) + "</text>";
  });
  svg += "<text x=\"" + (mid + 4) + "\" y=\"" + (ids.length * rowH + 18) + "\" font-size=\"11\" fill=\"#555\">" + esc(learnWord("gradLegend")) + "</text>";
  $("grad-bars").innerHTML = "<svg width=\"" + width + "\" height=\"" + (ids.length * rowH + 24) + "\" font-family=\"" + FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
}
// What each stage of the backward pass is called, and the parameters whose gradient it yields.
function flowName(at) {
  if (at === "logits") { return learnWord("atLogits"); }
  if (at === "lnf") { return learnWord("atFinalNorm"); }
  var l = Math.floor(at / 2);
  if (at === 2 * L) { return learnWord("atAfterBlock", { l: L - 1 }); }
  if (at === 0) { return learnWord("atEmbedding"); }
  return at % 2 === 1 ? learnWord("atMiddle", { l: l }) : learnWord("atAfterBlock", { l: l - 1 });
}
function tensorNorm(filter) {
  var sum = 0;
  LEARN.tensors.forEach(function (t) { if (filter(t.name)) { sum += t.norm * t.norm; } });
  return Math.sqrt(sum);
}
// The op the gradient has just passed through on its way to stage i (from stage i − 1).
function flowOp(i) {
  var at = LEARN.flow[i].at;
  if (at === "lnf") { return [learnWord("opHead"), tensorNorm(function (n) { return n === "transformer.wte.weight"; }), learnWord("opHeadNote")]; }
  if (at === 2 * L) { return [learnWord("opFinalNorm"), tensorNorm(function (n) { return n.indexOf("ln_f") >= 0; }), ""]; }
  var l = Math.floor(at / 2);
  if (at % 2 === 1) {
    return [learnWord("opMlp", { l: l }), tensorNorm(function (n) { return n.indexOf("h." + l + ".mlp") >= 0 || n.indexOf("h." + l + ".ln_2") >= 0; }), ""];
  }
  return [learnWord("opAttention", { l: l }), tensorNorm(function (n) { return n.indexOf("h." + l + ".attn") >= 0 || n.indexOf("h." + l + ".ln_1") >= 0; }), ""];
}
function renderBackFlow() {
  if (!LEARN) { return; }
  var N = LEARN.p.length, tokens = qkvTokens, rows = LEARN.flow.length;
  var cell = Math.max(6, Math.min(16, Math.floor(560 / N))), left = 250, rowH = 46, top = 28;
  var width = left + N * cell + 190, height = top + rows * rowH + 10, svg = "";
  svg += "<defs><marker id=\"back-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#d62728\"/></marker></defs>";
  for (var t = 0; t < N && cell >= 10; t++) {
    svg += "<text x=\"" + (left + (t + 0.5) * cell) + "\" y=\"" + (top - 8) + "\" font-size=\"11\" text-anchor=\"middle\">" + esc(visible(D.vocab[tokens[t]])) + "</text>";
  }
  svg += "<text x=\"" + (left + N * cell + 12) + "\" y=\"" + (top - 8) + "\" font-size=\"11\" fill=\"#555\">" + esc(learnWord("colGradSize")) + "</text>";
  var biggestTotal = 1e-30;
  LEARN.flow.forEach(function (s) { biggestTotal = Math.max(biggestTotal, s.total); });
  LEARN.flow.forEach(function (stage, i) {
    var y = top + i * rowH, most = 1e-30;
    stage.sizes.forEach(function (v) { most = Math.max(most, v); });
    svg += "<text x=\"" + (left - 10) + "\" y=\"" + (y + 15) + "\" font-size=\"13\" text-anchor=\"end\" font-weight=\"600\">" + esc(flowName(stage.at)) + "</text>";
    // Each position's share of this stage's gradient (scaled to the stage's own largest).
    stage.sizes.forEach(function (v, t) {
      svg += "<rect x=\"" + (left + t * cell) + "\" y=\"" + y + "\" width=\"" + (cell - 1) + "\" height=\"20\" fill=\"" + heat(0.1 + 0.9 * v / most) + "\"><title>" +
        t + " “" + esc(visible(D.vocab[tokens[t]])) + "”: " + sigText(v, 3) + "</title></rect>";
    });
    var w = 150 * Math.max(0, 1 + Math.log10(stage.total / biggestTotal) / 4);
    svg += "<rect x=\"" + (left + N * cell + 12) + "\" y=\"" + (y + 4) + "\" width=\"" + w.toFixed(1) + "\" height=\"12\" fill=\"#d62728\" fill-opacity=\"0.7\"/>" +
      "<text x=\"" + (left + N * cell + 16 + w) + "\" y=\"" + (y + 15) + "\" font-size=\"12\">" + sig(stage.total, 3) + "</text>";
    if (i + 1 < rows) {
      var op = flowOp(i + 1);
      svg += "<line x1=\"" + (left - 120) + "\" y1=\"" + (y + 22) + "\" x2=\"" + (left - 120) + "\" y2=\"" + (y + rowH - 2) + "\" stroke=\"#d62728\" stroke-width=\"2\" marker-end=\"url(#back-arrow)\"/>" +
        "<text x=\"" + (left - 112) + "\" y=\"" + (y + 37) + "\" font-size=\"11\" fill=\"#8a1c1c\">" + esc(op[0]) + " · ‖∇θ‖ = " + sig(op[1], 3) + "</text>";
    }
  });
  $("back-flow").innerHTML = "<svg width=\"" + width + "\" height=\"" + height + "\" font-family=\"" + FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
  // Which prompt positions receive the most at the embeddings.
  var emb = LEARN.flow[rows - 1].sizes, order = emb.map(function (v, t) { return t; });
  order.sort(function (a, b) { return emb[b] - emb[a]; });
  $("back-most").innerHTML = esc(learnWord("mostReceive")) + " " + order.slice(0, 3).map(function (t) {
    return "<span class=\"lens\">" + t + " “" + esc(visible(D.vocab[tokens[t]])) + "” " + sig(emb[t], 3) + "</span>";
  }).join(" ") + " · " + esc(learnWord("embeddingNorms", { wte: sigText(tensorNorm(function (n) { return n === "transformer.wte.weight"; }), 3),
    wpe: sigText(tensorNorm(function (n) { return n === "transformer.wpe.weight"; }), 3) }));
}
function renderLadder() {
  if (!LEARN) { return; }
  var ladder = LEARN.ladder, r = ladder[learn.rung], g2 = LEARN.gradNorm * LEARN.gradNorm;
  $("eta-value").textContent = etaLabel(r.eta);
  var lo = Math.min(LEARN.loss, Math.min.apply(null, ladder.map(function (x) { return x.after; })));
  var hi = Math.max(LEARN.loss, Math.max.apply(null, ladder.map(function (x) { return x.after; })));
  // Keep the interesting part readable: losses far above the start are drawn at the top edge.
  hi = Math.min(hi, LEARN.loss + 2 * Math.max(0.1, LEARN.loss - lo));
  lo -= 0.05 * (hi - lo + 1e-9); hi += 0.05 * (hi - lo + 1e-9);
  var width = 460, height = 280, left = 56, right = 10, topPad = 24, bottom = 40;
  var e0 = Math.log10(ladder[0].eta), e1 = Math.log10(ladder[ladder.length - 1].eta);
  function X(eta) { return left + (width - left - right) * (Math.log10(eta) - e0) / (e1 - e0); }
  function Y(v) { return topPad + (height - topPad - bottom) * (hi - Math.max(lo, Math.min(hi, v))) / (hi - lo); }
  var svg = "<rect x=\"" + left + "\" y=\"" + topPad + "\" width=\"" + (width - left - right) + "\" height=\"" + (height - topPad - bottom) + "\" fill=\"#fafbfc\" stroke=\"#ccc\"/>";
  svg += "<line x1=\"" + left + "\" x2=\"" + (width - right) + "\" y1=\"" + Y(LEARN.loss) + "\" y2=\"" + Y(LEARN.loss) + "\" stroke=\"#555\" stroke-dasharray=\"4,3\"/>" +
    "<text x=\"" + (left + 4) + "\" y=\"" + (Y(LEARN.loss) - 4) + "\" font-size=\"11\" fill=\"#555\">" + esc(learnWord("lossBefore")) + "</text>";
  var pred = "", real = "";
  ladder.forEach(function (x, i) {
    pred += (i ? " L" : "M") + X(x.eta).toFixed(1) + "," + Y(x.pred).toFixed(1);
    real += (i ? " L" : "M") + X(x.eta).toFixed(1) + "," + Y(x.after).toFixed(1);
  });
  svg += "<path d=\"" + pred + "\" fill=\"none\" stroke=\"#2ca02c\" stroke-dasharray=\"5,3\" stroke-width=\"2\"/>";
  svg += "<path d=\"" + real + "\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>";
  ladder.forEach(function (x, i) {
    svg += "<circle cx=\"" + X(x.eta).toFixed(1) + "\" cy=\"" + Y(x.after).toFixed(1) + "\" r=\"" + (i === learn.rung ? 6 : 3.5) + "\" fill=\"" +
      (x.after > LEARN.loss ? "#d62728" : "#1f77b4") + "\"" + (i === learn.rung ? " stroke=\"#000\" stroke-width=\"2\"" : "") + "/>";
    if (x.after > hi) {
      svg += "<text x=\"" + X(x.eta).toFixed(1) + "\" y=\"" + (topPad - 3) + "\" font-size=\"10\" text-anchor=\"middle\" fill=\"#d62728\">↑" + fixed(x.after, 1) + "</text>";
    }
    svg += "<text x=\"" + X(x.eta).toFixed(1) + "\" y=\"" + (height - bottom + 14) + "\" font-size=\"10\" text-anchor=\"middle\">" + etaLabel(x.eta) + "</text>";
  });
  svg += "<text x=\"" + ((left + width) / 2) + "\" y=\"" + (height - 6) + "\" font-size=\"12\" text-anchor=\"middle\">η (" + esc(learnWord("logScale")) + ")</text>";
  svg += "<text x=\"" + (left - 6) + "\" y=\"" + (topPad + 10) + "\" font-size=\"11\" text-anchor=\"end\">" + fixed(hi, 2) + "</text>" +
    "<text x=\"" + (left - 6) + "\" y=\"" + (height - bottom) + "\" font-size=\"11\" text-anchor=\"end\">" + fixed(lo, 2) + "</text>";
  svg += "<text x=\"" + (width - right - 4) + "\" y=\"" + (topPad + 14) + "\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f77b4\">— " + esc(learnWord("lossAfterLine")) + "</text>" +
    "<text x=\"" + (width - right - 4) + "\" y=\"" + (topPad + 28) + "\" font-size=\"11\" text-anchor=\"end\" fill=\"#2ca02c\">- - " + esc(learnWord("predictionLine")) + "</text>";
  $("ladder-chart").innerHTML = "<svg width=\"" + width + "\" height=\"" + height + "\" font-family=\"" + FONT.replace(/"/g, "") + "\">" + svg + "</svg>";
  var change = r.after - LEARN.loss;
  $("ladder-step").innerHTML = esc(learnWord("ladderStep", {
    eta: etaLabel(r.eta), before: fixed(LEARN.loss, 4), after: fixed(r.after, 4), pred: fixed(r.pred, 4),
    g2: sigText(g2, 4), d: (change > 0 ? "+" : "") + fixed(change, 4)
  }));
  var html = "<tr><th>η</th><th>" + esc(learnWord("colAfter")) + "</th><th>" + esc(learnWord("colPred")) + "</th><th>" + esc(learnWord("colChange")) + "</th><th class=\"c\"></th></tr>";
  ladder.forEach(function (x, i) {
    var d = x.after - LEARN.loss;
    html += "<tr" + (i === learn.rung ? " class=\"strong\"" : "") + "><td>" + etaLabel(x.eta) + "</td><td>" + fixed(x.after, 5) + "</td><td>" + fixed(x.pred, 5) +
      "</td><td>" + (d > 0 ? "+" : "") + fixed(d, 5) + "</td><td class=\"c\">" + (d > 0 ? "↑" : "↓") + "</td></tr>";
  });
  $("ladder-table").innerHTML = html;
  var best = 0, over = -1;
  ladder.forEach(function (x, i) { if (x.after < ladder[best].after) { best = i; } if (over < 0 && x.after > LEARN.loss) { over = i; } });
  var verdict = learnWord("ladderBest", { eta: etaLabel(ladder[best].eta), after: fixed(ladder[best].after, 4) });
  verdict += " " + (over >= 0 ? learnWord("ladderOver", { eta: etaLabel(ladder[over].eta), after: fixed(ladder[over].after, 4) }) : learnWord("ladderNoOver"));
  $("ladder-verdict").textContent = verdict;
}
function renderChecks() {
  if (!LEARN) { return; }
  var c = LEARN.checks, html = "<tr><th style=\"text-align:left\">" + esc(learnWord("colTensor")) + "</th><th>" + esc(learnWord("colEntry")) + "</th><th>" +
    esc(learnWord("colBackward")) + "</th><th>" + esc(learnWord("colFinite")) + "</th><th>" + esc(learnWord("colRel")) + "</th><th class=\"c\"></th></tr>";
  c.entries.forEach(function (e) {
    html += "<tr><td style=\"text-align:left\" class=\"mono\">" + esc(e.tensor) + "</td><td>[" + e.at.join(",") + "]</td><td>" + sig(e.analytic, 5) + "</td><td>" +
      sig(e.numeric, 5) + "</td><td>" + sig(e.rel, 2) + "</td><td class=\"c\">" + (e.ok ? "✓" : "✗") + "</td></tr>";
  });
  $("check-table").innerHTML = html;
  var ok = c.entries.every(function (e) { return e.ok; });
  $("check-verdict").textContent = learnWord(ok ? "checkOk" : "checkBad", { tol: c.tolerance });
}
function renderLearning() {
  renderLoss();
  renderQKV();
  renderGradient();
  renderBackFlow();
  renderLadder();
  renderChecks();
}
// What the learning sections show, for the browser tests.
function learningCheck() {
  var out = { loss: $("loss-mean").textContent, rung: learn.rung, pos: learn.pos };
  if (LEARN) {
    out.ladder = LEARN.ladder.map(function (r) { return { eta: r.eta, after: r.after, pred: r.pred }; });
    out.shownAfter = Array.prototype.map.call(document.querySelectorAll("#ladder-table tr td:nth-child(2)"), function (td) { return Number(td.textContent); });
    out.p = LEARN.p;
    out.nll = LEARN.nll;
    out.mean = LEARN.loss;
    out.gradBars = document.querySelectorAll("#grad-bars rect").length;
    out.flowRows = LEARN.flow.length;
    out.checksOk = LEARN.checks.entries.every(function (e) { return e.ok; });
  }
  var body = $("qkv-body");
  out.qkvOut = body && body.getAttribute("data-out") ? JSON.parse(body.getAttribute("data-out")) : null;
  out.qkTerms = $("qk-terms") ? $("qk-terms").textContent : null;
  return out;
}
function learningHash(key, value) {
  if (key === "lpos" && LEARN) {
    var n = Math.max(0, Math.min(LEARN.p.length - 1, Number(value) || 0));
    var span = document.querySelector("#surprise [data-lpos=\"" + n + "\"]");
    if (span) { span.click(); }
  }
  if (key === "eta" && LEARN) { setSlider("eta", Math.max(0, Math.min(LEARN.ladder.length - 1, Number(value) || 0))); }
  if (key === "learncheck") { $("check-result").textContent = JSON.stringify(learningCheck()); }
}

// MARK: - Words, English and Chinese

var LEARN_WORDS = {
  en: {
    lossTitle: "The loss on this prompt",
    lossIntro: "Read the prompt as training does: at every position the model gave each character a probability for what comes next, and then the true next character arrived. −ln p of that character is the model's surprise: 0 when it was sure and right, large when it gave the truth little chance. The mean over the prompt is the cross-entropy loss, the number training pushes down.",
    nextChar: "next",
    surpriseHint: "Each character coloured by how surprised the model was to see it (white: expected, dark red: a surprise). Click one to see its numbers; the first character has nothing before it to predict it.",
    lossMean: "Loss L (mean −ln p, nats per character)",
    thisModel: "this prompt",
    uniform: "guessing uniformly (ln {v})",
    baseline: "{name} (validation text)",
    lossBaselinesNote: "The uniform guess knows nothing; the counting models are the unigram and bigram figures train printed for the validation text. A trained model should sit well below them on text like its training text.",
    lossAxis: "−ln p at each position (dashed: the mean L)",
    lossAt: "Position {t}: after “{before}” the next character was “{c}”. The model gave it p = {p}, so −ln p = {s}.",
    noPrediction: "nothing before it: not predicted",
    qkvTitle: "Q, K and V as vectors",
    qkvIntro: "The table above shows one number per key, q·k. Here are the vectors behind it for the chosen layer, head and query. The head reads the LayerNorm'd stream x and multiplies it by three matrices of its own: W_Q gives the query (what this position looks for), W_K a key for every position (what it offers), W_V a value (what it hands over). Red cells are positive numbers, blue negative.",
    qkvInput: "x = LN₁ of the stream at position {t} “{c}”: {C} numbers.",
    qkvQuery: "q = W_Q·x + b: {hs} numbers (layer {l}, head {h}).",
    qkvKeys: "Every earlier position j has its key k_j and value v_j; q·k_j is the score before ÷√d, a the weight after the softmax (the strongest row is framed).",
    earlierKeys: "positions 0 … {n} are left out here; the table above lists them all.",
    qkWritten: "One score written out, for key {j} “{c}” (multiply matching numbers, add them up):",
    qkSame: "The table above shows the same score: {s}.",
    qkvOutput: "The head's output at position {t}: out = ∑ a_j v_j, the values mixed in proportion to the weights.",
    qkvStale: "The vectors are those of the prompt the page was made with; run inspect again on this prompt to see its vectors.",
    learnTitle: "One step of learning",
    learnIntro: "Now treat the prompt as one training example. Training computes the loss L, finds how L changes with every parameter (the gradient ∇L, by the chain rule, from the end of the model back to the start), and moves every parameter a small step against it. Every number below comes from the same Swift code that train runs.",
    gradTitle: "Where the gradient starts: ∂L/∂logits = p − y",
    gradIntro: "Softmax followed by −ln p has the simplest derivative in the whole model: the probabilities p minus the one-hot y of the true character, divided by N because L is a mean over N positions. Every wrong character's logit is pushed down in proportion to its probability; the true character's is pulled up by 1 − p.",
    gradAt: "Position {t}, true next character “{c}”: p = {p}, so its entry is p − 1 = {g} (times 1/{n}). Click a character in the loss section to choose another position.",
    gradLegend: "light: p   strong: p − y (red: the true character, pulled down by 1)",
    flowBackTitle: "The gradient flowing back",
    flowBackIntro: "The chain rule, as a picture: the backward pass starts at the logits (top) and carries ∂L/∂x down through the head, the final LayerNorm and every block, MLP then attention, to the embeddings: the opposite direction to the forward pass. Each row is the gradient of the residual stream at that point, one cell per prompt position (darker: more of this row's gradient); the bar on the right is its total size. Between rows, in red: the op passed through, and the size of the gradient it leaves on its own parameters.",
    colGradSize: "‖∂L/∂x‖",
    atLogits: "logits (p − y)/N",
    atFinalNorm: "head input LN_f(x)",
    atAfterBlock: "stream after block {l}",
    atMiddle: "block {l}, after attention",
    atEmbedding: "embeddings wte + wpe",
    opHead: "head ·W_teᵀ",
    opHeadNote: "",
    opFinalNorm: "final LayerNorm",
    opMlp: "block {l} MLP",
    opAttention: "block {l} attention",
    mostReceive: "Positions whose embeddings receive the most gradient:",
    embeddingNorms: "‖∇wte‖ = {wte} (head and embedding together), ‖∇wpe‖ = {wpe}",
    ladderTitle: "One update θ ← θ − η·∇L, for a ladder of learning rates",
    ladderIntro: "Each η below is a real step: the model's parameters were moved by −η·∇L and the prompt's loss was computed again. For a small η the loss falls by almost exactly η‖∇L‖², the straight-line prediction. A larger step helps more, until the gradient's direction stops being good that far away: the loss then falls less than predicted, and past some η it rises. That is the learning rate being too large. Drag the slider.",
    lossBefore: "L before the step",
    logScale: "log scale",
    lossAfterLine: "loss after one step",
    predictionLine: "prediction L − η‖∇L‖²",
    ladderStep: "η = {eta}: L goes from {before} to {after} ({d}); the first-order prediction L − η‖∇L‖² is {pred} (‖∇L‖² = {g2}).",
    colAfter: "L after",
    colPred: "L − η‖∇L‖²",
    colChange: "change",
    ladderBest: "The lowest loss after one step is at η = {eta} ({after}).",
    ladderOver: "From η = {eta} on, the step overshoots: the loss ends higher than it began ({after}).",
    ladderNoOver: "No η on this ladder overshoots yet.",
    checkTitle: "The gradient checked where it is shown",
    checkIntro: "Is the backward pass right? Nudge one parameter up and down by h, run the model again, and see how much L moved: (L(θ + h) − L(θ − h)) / 2h, taken at h and h/2 and combined so that the error from the curvature cancels. It should match what the backward pass gave for that parameter. Here the largest entry of a few tensors; tinygpt gradcheck checks every tensor.",
    colTensor: "tensor",
    colEntry: "entry",
    colBackward: "backward pass",
    colFinite: "finite difference",
    colRel: "relative error",
    checkOk: "All agree to within the tolerance ({tol}): the gradient shown above is the true slope of the loss.",
    checkBad: "Some entries disagree by more than the tolerance ({tol}).",
  },
  zh: {
    lossTitle: "这段提示上的损失",
    lossIntro: "像训练那样读这段提示：在每一个位置，模型先给每个字一个“下一个字是它”的概率，然后真正的下一个字出现了。那个字的 −ln p 就是模型的“意外程度”：有把握又猜对时接近 0，几乎没想到它时就很大。把整段提示上的意外程度取平均，就是交叉熵损失，也就是训练一直在压低的那个数。",
    nextChar: "下一个字",
    surpriseHint: "每个字按模型看到它时有多意外来上色（白色：意料之中，深红：很意外）。点一个字可以看它的数字；第一个字前面什么都没有，不算预测。",
    lossMean: "损失 L（−ln p 的平均值，单位：奈特/字）",
    thisModel: "这段提示",
    uniform: "完全瞎猜（ln {v}）",
    baseline: "{name}（验证文本）",
    lossBaselinesNote: "瞎猜什么都不知道；计数模型就是 train 在验证文本上打印的一元、二元模型的损失。训练好的模型，在和训练文本相似的文字上，应该明显低于它们。",
    lossAxis: "每个位置的 −ln p（虚线：平均值 L）",
    lossAt: "位置 {t}：在「{before}」之后，下一个字是「{c}」。模型给它的概率 p = {p}，所以 −ln p = {s}。",
    noPrediction: "前面没有字：不做预测",
    qkvTitle: "把 Q、K、V 摊开看：一串串数字",
    qkvIntro: "上面的表里，每个键只给了一个数 q·k。这里把它背后的向量摊开，对应上面选中的层、头和查询位置。这个头先读经过 LayerNorm 的残差流 x，再乘上自己的三个矩阵：W_Q 得到查询 q（这个位置想找什么），W_K 给每个位置一个键 k（它能提供什么），W_V 给每个位置一个值 v（它真正交出去的内容）。红色格子是正数，蓝色是负数。",
    qkvInput: "x = 位置 {t}「{c}」上的残差流经过 LN₁：共 {C} 个数。",
    qkvQuery: "q = W_Q·x + b：共 {hs} 个数（第 {l} 层，第 {h} 个头）。",
    qkvKeys: "前面每个位置 j 都有自己的键 k_j 和值 v_j；q·k_j 是除以 √d 之前的分数，a 是 softmax 之后的权重（权重最大的那一行加了框）。",
    earlierKeys: "位置 0 … {n} 在这里省略了，上面的表里都有。",
    qkWritten: "把其中一个分数完整写出来，用的是键 {j}「{c}」（对应位置的数两两相乘，再全部加起来）：",
    qkSame: "上面的表里是同一个分数：{s}。",
    qkvOutput: "这个头在位置 {t} 的输出：out = ∑ a_j v_j，也就是按权重把各个值混合起来。",
    qkvStale: "这些向量属于生成页面时的那段提示；想看这段新提示的向量，请对它重新运行 inspect。",
    learnTitle: "学习的一步",
    learnIntro: "现在把这段提示当成一条训练样本。训练要做三件事：算出损失 L；用链式法则从模型的末端一路往回推，求出 L 对每一个参数的变化率，也就是梯度 ∇L；再让每个参数逆着梯度走一小步。下面的每一个数，都来自 train 用的同一份 Swift 代码。",
    gradTitle: "梯度从哪里出发：∂L/∂logits = p − y",
    gradIntro: "softmax 再接 −ln p，它的导数是整个模型里最简单的：概率 p 减去真实字的独热向量 y，再除以 N（因为 L 是 N 个位置的平均）。每个错字的 logit 都按它的概率被往下压，真实字的 logit 则被往上拉 1 − p。",
    gradAt: "位置 {t}，真正的下一个字是「{c}」：p = {p}，所以它那一项是 p − 1 = {g}（再乘 1/{n}）。在“损失”一节里点别的字，可以换一个位置。",
    gradLegend: "浅色：p　深色：p − y（红色：真实的字，被减去了 1）",
    flowBackTitle: "梯度往回流",
    flowBackIntro: "这就是链式法则的样子：反向传播从最上面的 logits 出发，把 ∂L/∂x 一路往下传，经过输出头、最后的 LayerNorm、每一个块（先 MLP 再注意力），一直传到嵌入层，方向和前向计算正好相反。每一行是残差流在那一点的梯度，每个提示位置一格（颜色越深，这一行的梯度在这个位置越多）；右边的条是这一行梯度的总大小。行与行之间的红字：梯度刚刚穿过的那一步运算，以及它留在自己参数上的梯度有多大。",
    colGradSize: "‖∂L/∂x‖",
    atLogits: "logits (p − y)/N",
    atFinalNorm: "输出头的输入 LN_f(x)",
    atAfterBlock: "第 {l} 块之后的残差流",
    atMiddle: "第 {l} 块，注意力之后",
    atEmbedding: "嵌入 wte + wpe",
    opHead: "输出头 ·W_teᵀ",
    opHeadNote: "",
    opFinalNorm: "最后的 LayerNorm",
    opMlp: "第 {l} 块的 MLP",
    opAttention: "第 {l} 块的注意力",
    mostReceive: "嵌入收到梯度最多的几个位置：",
    embeddingNorms: "‖∇wte‖ = {wte}（输出头和嵌入两处加在一起），‖∇wpe‖ = {wpe}",
    ladderTitle: "更新一步 θ ← θ − η·∇L，学习率从小到大试一遍",
    ladderIntro: "下面每个 η 都是真的走了一步：把模型的参数移动 −η·∇L，再在这段提示上重新算一次损失。η 很小时，损失下降的量几乎正好是 η‖∇L‖²，也就是直线预测。步子越大，降得越多；可是走得太远，梯度指的方向就不再可靠了：损失降得比预测少，η 再大，损失反而上升。这就是学习率太大。拖动滑块看一看。",
    lossBefore: "走这一步之前的 L",
    logScale: "对数刻度",
    lossAfterLine: "走一步之后的损失",
    predictionLine: "预测 L − η‖∇L‖²",
    ladderStep: "η = {eta}：L 从 {before} 变成 {after}（{d}）；一阶预测 L − η‖∇L‖² 是 {pred}（‖∇L‖² = {g2}）。",
    colAfter: "一步之后的 L",
    colPred: "L − η‖∇L‖²",
    colChange: "变化",
    ladderBest: "走一步后损失最低的是 η = {eta}（{after}）。",
    ladderOver: "从 η = {eta} 开始，步子迈过头了：损失比原来还高（{after}）。",
    ladderNoOver: "这一组 η 里还没有哪一个迈过头。",
    checkTitle: "就地检查梯度",
    checkIntro: "反向传播算得对不对？把一个参数上下各挪一点 h，重新运行模型，看 L 变了多少：(L(θ + h) − L(θ − h)) / 2h；分别用 h 和 h/2 各算一次再组合起来，把曲率带来的误差消掉。结果应该和反向传播给这个参数的梯度一致。这里查的是几个张量里梯度最大的那一项；tinygpt gradcheck 会查每一个张量。",
    colTensor: "张量",
    colEntry: "位置",
    colBackward: "反向传播",
    colFinite: "差商",
    colRel: "相对误差",
    checkOk: "全部在容差（{tol}）以内：上面画出的梯度，就是损失真实的斜率。",
    checkBad: "有些项的差别超过了容差（{tol}）。",
  }
};
