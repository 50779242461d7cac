// The part of the inspector's script that runs the model itself in the page (with
// --with-model): the weights come as base64 float32 in the data block #inspector-weights, and
// this forward pass (Double precision, the same ops as GPT.forward: embedding, pre-norm
// blocks of causal multi-head attention and a GELU MLP, final LayerNorm, tied head) rebuilds
// every number the page shows, so a typed prompt or a drawn character updates all sections.
// Head summaries are measured as HeadSummary does (Model/HeadSummary.swift).
// InspectorLayout.swift puts this file at inspector.js's marker line.
//
// Test hook, in the URL's fragment: prompt=TEXT runs the model on TEXT and writes
// {"logits": [...]} (the last position's) into the element #check-result.

var MODEL = (function () {
  var box = document.getElementById("inspector-weights");
  if (!box || !D.weights) { return null; }
  var text = atob(box.textContent.trim()), bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  var view = new DataView(bytes.buffer), w = new Float32Array(bytes.length / 4);
  for (i = 0; i < w.length; i++) { w[i] = view.getFloat32(4 * i, true); }
  return { w: w, at: D.weights.offsets, gelu: D.weights.gelu, skip: D.weights.residual === false ? 0 : 1 };
})();

// erf by Numerical Recipes' erfc Chebyshev fit (fractional error below 1.2e-7).
function erf(x) {
  var z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  var r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}
function gelu(x) {
  if (MODEL.gelu === "exact") { return 0.5 * x * (1 + erf(x / Math.SQRT2)); }
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
// out (T, C) = LayerNorm over each row of x (T, C), eps 1e-5.
function layerNorm(x, T, C, name) {
  var g = MODEL.at[name + ".weight"], b = MODEL.at[name + ".bias"], w = MODEL.w, out = new Float64Array(T * C);
  for (var t = 0; t < T; t++) {
    var mean = 0, v = 0, i;
    for (i = 0; i < C; i++) { mean += x[t * C + i]; }
    mean /= C;
    for (i = 0; i < C; i++) { var d = x[t * C + i] - mean; v += d * d; }
    var rstd = 1 / Math.sqrt(v / C + 1e-5);
    for (i = 0; i < C; i++) { out[t * C + i] = (x[t * C + i] - mean) * rstd * w[g + i] + w[b + i]; }
  }
  return out;
}
// out (T, OC) = x (T, IC) · Wᵀ + bias, W stored (OC, IC); no bias when name + ".bias" is absent.
function linear(x, T, IC, OC, weightAt, biasAt) {
  var w = MODEL.w, out = new Float64Array(T * OC);
  for (var t = 0; t < T; t++) {
    for (var o = 0; o < OC; o++) {
      var s = biasAt === null ? 0 : w[biasAt + o], row = weightAt + o * IC, xr = t * IC;
      for (var i = 0; i < IC; i++) { s += x[xr + i] * w[row + i]; }
      out[t * OC + o] = s;
    }
  }
  return out;
}
function sizeOf(a, b, t, C) {
  var s = 0;
  for (var i = 0; i < C; i++) { var d = a[t * C + i] - (b ? b[t * C + i] : 0); s += d * d; }
  return Math.sqrt(s);
}
function lens(x, T, C) {
  var logits = linear(layerNorm(x, T, C, "transformer.ln_f"), T, C, V, MODEL.at["transformer.wte.weight"], null);
  var ids = [], ps = [];
  for (var t = 0; t < T; t++) {
    var row = Array.prototype.slice.call(logits, t * V, (t + 1) * V), P = distribution(row, 1, V, 1), order = ranked(P);
    for (var r = 0; r < 5 && r < V; r++) { ids.push(order[r]); ps.push(P[order[r]]); }
  }
  return { ids: ids, ps: ps, last: Array.prototype.slice.call(logits, (T - 1) * V, T * V) };
}
function summarize(W, tokens) {
  var T = tokens.length, nl = D.vocab.indexOf("\n"), sp = D.vocab.indexOf(" "), sums = {};
  function add(p, v) { if (!sums[p]) { sums[p] = [0, 0]; } sums[p][0] += v; sums[p][1] += 1; }
  var lineStart = 0, wordStart = 0;
  for (var t = 0; t < T; t++) {
    if (t > 0 && tokens[t - 1] === nl) { lineStart = t; }
    if (t > 0 && (tokens[t - 1] === nl || tokens[t - 1] === sp)) { wordStart = t; }
    if (t === 0) { continue; }
    var row = [], j;
    for (j = 0; j <= t; j++) { row.push(W[t * (t + 1) / 2 + j]); }
    add("previousCharacter", row[t - 1]);
    add("itself", row[t]);
    if (t > 1) { add("firstPosition", row[0]); }
    if (lineStart > 0 && lineStart < t - 1) { add("startOfLine", row[lineStart]); }
    if (wordStart > 0 && wordStart < t - 1) { add("startOfWord", row[wordStart]); }
    if (wordStart > 1 && wordStart - 1 < t - 1) { add("lastSpace", row[wordStart - 1]); }
    if (t > 2) { add("recentCharacters", row[t - 2] + row[t - 1] + row[t]); }
    var same = 0, after = 0, copies = 0, afters = 0;
    for (j = 0; j < t; j++) {
      if (tokens[j] === tokens[t]) { same += row[j]; copies++; if (j + 1 < t) { after += row[j + 1]; afters++; } }
    }
    if (copies > 0) { add("sameCharacterEarlier", same); }
    if (afters > 0) { add("afterSameCharacter", after); }
    if (t >= 4) {
      var tv = 0;
      for (j = 0; j <= t; j++) { tv += Math.abs(row[j] - 1 / (t + 1)); }
      add("spreadEvenly", 1 - tv / 2);
    }
  }
  var shares = {}, best = { pattern: "mixed", share: 0 }, threshold = 0.4;
  Object.keys(sums).forEach(function (p) { shares[p] = sums[p][0] / sums[p][1]; });
  ["previousCharacter", "itself", "sameCharacterEarlier", "afterSameCharacter", "lastSpace", "startOfWord", "startOfLine", "firstPosition"]
    .forEach(function (p) { if (p in shares && shares[p] > best.share) { best = { pattern: p, share: shares[p] }; } });
  if (best.share < threshold) {
    var recent = shares.recentCharacters || 0, even = shares.spreadEvenly || 0;
    best = recent > even ? { pattern: "recentCharacters", share: recent } : { pattern: "spreadEvenly", share: even };
  }
  if (best.share < threshold) {
    var most = 0;
    Object.keys(shares).forEach(function (p) { most = Math.max(most, shares[p]); });
    best = { pattern: "mixed", share: most };
  }
  return { pattern: best.pattern, share: best.share, shares: shares };
}
// The whole trace of tokens (1 ≤ T ≤ context), in the shape of the page's JSON.
function runModel(tokens) {
  var T = tokens.length, C = D.width, NH = D.heads, hs = D.headWidth, w = MODEL.w, at = MODEL.at;
  var x = new Float64Array(T * C), t, i, j, h;
  for (t = 0; t < T; t++) {
    for (i = 0; i < C; i++) {
      x[t * C + i] = w[at["transformer.wte.weight"] + tokens[t] * C + i] + w[at["transformer.wpe.weight"] + t * C + i];
    }
  }
  var attention = [], summaries = [], stages = [], first = lens(x, T, C);
  stages.push({ block: null, x: range(T).map(function (t) { return sizeOf(x, null, t, C); }), attn: [], mlp: [],
                lensIds: first.ids, lensP: first.ps });
  var last = first.last;
  for (var l = 0; l < D.layers; l++) {
    var p = "transformer.h." + l + ".";
    var qkv = linear(layerNorm(x, T, C, p + "ln_1"), T, C, 3 * C, at[p + "attn.c_attn.weight"], at[p + "attn.c_attn.bias"]);
    var y = new Float64Array(T * C), heads = [], scale = 1 / Math.sqrt(hs);
    for (h = 0; h < NH; h++) {
      var W = [], S = [], Vs = [];
      for (t = 0; t < T; t++) {
        var scores = [], m = -Infinity;
        for (j = 0; j <= t; j++) {
          var dot = 0;
          for (i = 0; i < hs; i++) { dot += qkv[t * 3 * C + h * hs + i] * qkv[j * 3 * C + C + h * hs + i]; }
          scores.push(dot);
          m = Math.max(m, dot * scale);
        }
        var e = scores.map(function (s) { return Math.exp(s * scale - m); }), sum = e.reduce(function (a, b) { return a + b; }, 0);
        for (j = 0; j <= t; j++) {
          var a = e[j] / sum, norm = 0;
          for (i = 0; i < hs; i++) {
            var v = qkv[j * 3 * C + 2 * C + h * hs + i];
            y[t * C + h * hs + i] += a * v;
            norm += v * v;
          }
          W.push(a); S.push(scores[j]); Vs.push(a * Math.sqrt(norm));
        }
      }
      heads.push({ w: W, s: S, v: Vs });
    }
    attention.push(heads);
    summaries.push(heads.map(function (hd) { return summarize(hd.w, tokens); }));
    var branch = linear(y, T, C, C, at[p + "attn.c_proj.weight"], at[p + "attn.c_proj.bias"]);
    var x2 = new Float64Array(T * C);
    for (i = 0; i < T * C; i++) { x2[i] = MODEL.skip * x[i] + branch[i]; }
    var fc = linear(layerNorm(x2, T, C, p + "ln_2"), T, C, 4 * C, at[p + "mlp.c_fc.weight"], at[p + "mlp.c_fc.bias"]);
    for (i = 0; i < fc.length; i++) { fc[i] = gelu(fc[i]); }
    var mlp = linear(fc, T, 4 * C, C, at[p + "mlp.c_proj.weight"], at[p + "mlp.c_proj.bias"]);
    var x3 = new Float64Array(T * C);
    for (i = 0; i < T * C; i++) { x3[i] = MODEL.skip * x2[i] + mlp[i]; }
    var seen = lens(x3, T, C);
    stages.push({ block: l, x: range(T).map(function (t) { return sizeOf(x3, null, t, C); }),
                  attn: range(T).map(function (t) { return sizeOf(x2, x, t, C); }),
                  mlp: range(T).map(function (t) { return sizeOf(x3, x2, t, C); }), lensIds: seen.ids, lensP: seen.ps });
    last = seen.last;
    x = x3;
  }
  return { tokens: tokens, logits: last, attention: attention, summaries: summaries, stages: stages };
}
function range(n) { var r = []; for (var i = 0; i < n; i++) { r.push(i); } return r; }
