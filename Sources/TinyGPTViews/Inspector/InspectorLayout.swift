// The inspector page's fixed markup and style: the four sections' frames, whose words
// (data-t keys, InspectorText.swift) and numbers the script fills in. Formulas are typeset
// with HTML and CSS (fractions as stacked spans, sub- and superscripts), no maths library.

enum InspectorLayout {
    static let body = """
    <div class="toolbar"><button id="switch-lang" type="button" data-t="switch"></button></div>
    <p><b data-t="promptLabel"></b>: <span id="prompt" class="prompt mono"></span></p>
    <p class="note"><b data-t="modelLabel"></b>: <span id="model-info"></span></p>
    <p class="note" data-t="positionHint"></p>
    <div id="model-box" class="card" hidden="hidden"><p class="note" data-t="typeHint"></p>
    <textarea id="prompt-input" rows="2" cols="70" class="mono"></textarea>
    <p><button id="run" type="button" data-t="run"></button> <span id="prompt-error" class="note"></span></p></div>

    <section id="next">
    <h2 data-t="s1"></h2>
    <p class="note" data-t="s1Intro"></p>
    <div class="controls">
    <label><span data-t="temperature"></span><input type="range" id="temperature" min="0" max="2" step="0.05" value="1"/><output id="temperature-value"></output></label>
    <label><span data-t="topK"></span><input type="range" id="top-k" min="1" max="2" step="1" value="2"/><output id="top-k-value"></output></label>
    <label><span data-t="topP"></span><input type="range" id="top-p" min="0.05" max="1" step="0.01" value="1"/><output id="top-p-value"></output></label>
    </div>
    <div id="sweep-buttons" class="controls" hidden="hidden"><span class="note" data-t="sweepButtons"></span><span id="sweep-button-row"></span></div>
    <div class="row">
    <div class="card"><div id="bars"></div><p class="note" data-t="cutNote"></p></div>
    <div class="card narrow">
    <p><b data-t="entropy"></b>: <span id="entropy" class="big"></span> <span class="note" data-t="entropyNote"></span></p>
    <p class="note" id="kept"></p>
    <div class="formula">P<sub>i</sub> = <span class="frac"><span>e<sup>z<sub>i</sub> / T</sup></span><span class="den">∑<sub>j</sub> e<sup>z<sub>j</sub> / T</sup></span></span></div>
    <p class="note" data-t="formulaIntro"></p>
    <div id="formula-numbers"></div>
    </div>
    </div>
    <div class="card">
    <p><button id="draw" type="button" data-t="draw"></button> <button id="reset" type="button" data-t="reset"></button></p>
    <p class="note" data-t="drawExplain"></p>
    <div id="strip"></div>
    <p id="draw-result"></p>
    <p class="note" data-t="drawnSoFar"></p>
    <p id="drawn" class="prompt mono"></p>
    <p id="need-model" class="note" data-t="needModel" hidden="hidden"></p>
    </div>
    </section>

    <section id="sweep" hidden="hidden">
    <h2 data-t="s5"></h2>
    <p class="note" data-t="s5Intro"></p>
    <p class="note" data-t="s5Stats"></p>
    <div id="sweep-columns" class="row"></div>
    </section>

    <section id="attention">
    <h2 data-t="s2"></h2>
    <p class="note" data-t="s2Intro"></p>
    <div class="controls"><label><span data-t="layer"></span> <select id="layer"></select></label>
    <label><span data-t="head"></span> <select id="head"></select></label> <span id="head-summary" class="note"></span></div>
    <div class="row">
    <div class="card"><canvas id="matrix" width="10" height="10"></canvas><p class="note small" data-t="matrixNote"></p></div>
    <div class="card grow">
    <h3 id="query-title"></h3>
    <div class="formula">a<sub>tj</sub> = softmax<sub>j≤t</sub> <span class="frac"><span>q<sub>t</sub> · k<sub>j</sub></span><span class="den">√d</span></span>, \u{2003} out<sub>t</sub> = ∑<sub>j≤t</sub> a<sub>tj</sub> v<sub>j</sub></div>
    <div class="scroll"><table id="row-table"></table></div>
    <p class="note" id="row-sum"></p>
    <p class="note" id="why-sqrt"></p>
    </div>
    </div>
    <div class="card">
    <h3 data-t="flowTitle"></h3>
    <div class="formula">Attention(Q, K, V) = softmax<span class="paren">(</span><span class="frac"><span>Q K<sup>T</sup></span><span class="den">√d<sub>k</sub></span></span><span class="paren">)</span> V</div>
    <div id="flow"></div>
    </div>
    </section>

    <section id="heads">
    <h2 data-t="s3"></h2>
    <p class="note" data-t="s3Intro"></p>
    <div id="head-grid"></div>
    </section>

    <section id="stream">
    <h2 data-t="s4"></h2>
    <p class="note" data-t="s4Intro"></p>
    <div class="formula">x<sup>(l+1)</sup> = x<sup>(l)</sup> + Attn(LN<sub>1</sub>(x<sup>(l)</sup>)) + MLP(LN<sub>2</sub>(…)), \u{2003} lens(x) = softmax(LN<sub>f</sub>(x) · W<sub>te</sub><sup>T</sup>)</div>
    <h3 id="position-title"></h3>
    <table id="stream-table"></table>
    <p class="note" data-t="finalNote"></p>
    </section>

    <pre id="check-result" class="hook"></pre>
    <pre id="errors" class="hook"></pre>
    """
}

enum InspectorStyle {
    static let css = """
    .toolbar { position: absolute; top: 18px; right: 32px; }
    button { font: inherit; padding: 3px 12px; border: 1px solid #b6bcc6; border-radius: 5px; background: #f6f8fa; cursor: pointer; }
    button:hover { background: #e9edf2; }
    section { margin-top: 8px; }
    .prompt { background: #f3f4f6; padding: 2px 6px; border-radius: 4px; white-space: pre-wrap; line-height: 2; }
    .ch { display: inline-block; min-width: 0.9em; text-align: center; padding: 0 2px; margin: 1px; border-radius: 3px; cursor: pointer; border: 1px solid transparent; }
    .ch:hover { border-color: #6baed6; }
    .ch.selected { background: #2171b5; color: #fff; }
    .ch.drawn { background: #fde9c9; }
    .ws { color: #8a8f98; }
    .controls { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 10px 0; align-items: center; }
    .controls label { display: flex; gap: 8px; align-items: center; font-size: 14px; }
    .controls output { font-variant-numeric: tabular-nums; min-width: 3.2em; font-weight: 600; }
    .narrow { max-width: 34em; }
    .grow { flex: 1; min-width: 26em; }
    .big { font-size: 20px; font-weight: 600; }
    .small { font-size: 12px; max-width: 36em; }
    .bar-row { display: flex; align-items: center; gap: 6px; height: 20px; font-size: 13px; }
    .bar-row .label { width: 2.2em; text-align: right; font-size: 15px; }
    .bar-row .track { width: 260px; height: 14px; background: #f0f2f5; position: relative; }
    .bar-row .fill { height: 14px; background: #1f77b4; }
    .bar-row.cut .fill { background: #c9ccd1; }
    .bar-row.cut .label, .bar-row.cut .value { text-decoration: line-through; color: #999; }
    .bar-row .value { width: 4.5em; font-variant-numeric: tabular-nums; color: #444; }
    .formula { font-size: 18px; margin: 10px 0; font-family: 'Times New Roman', 'Noto Serif CJK SC', serif; }
    .formula sub, .formula sup { font-size: 70%; }
    .frac { display: inline-flex; flex-direction: column; vertical-align: middle; text-align: center; margin: 0 4px; }
    .frac > span { display: block; padding: 0 4px; }
    .paren { font-size: 150%; vertical-align: middle; }
    .filled { font-size: 15px; margin: 4px 0; }
    .scroll { max-height: 380px; overflow-y: auto; }
    table.grid td, table.grid th { text-align: right; font-variant-numeric: tabular-nums; }
    table.grid td.c, table.grid th.c { text-align: center; }
    table.grid th { position: sticky; top: 0; background: #fff; }
    .head-card { min-height: 250px; }
    tr.masked td { color: #aaa; }
    tr.strong td { background: #fff3e0; }
    .mini { display: inline-block; height: 10px; background: #e8710a; vertical-align: middle; }
    .mini.attn { background: #2ca02c; }
    .mini.size { background: #1f77b4; }
    .lens { display: inline-block; margin: 0 6px 0 0; padding: 0 4px; border-radius: 3px; background: #eef3fb; }
    #head-grid { display: flex; flex-wrap: wrap; gap: 10px; }
    .head-card { border: 1px solid #e1e4e8; border-radius: 6px; padding: 6px; background: #fcfcfd; cursor: pointer; width: 156px; font-size: 12px; }
    .head-card.selected { border-color: #2171b5; box-shadow: 0 0 0 2px #c6dbef; }
    .head-card .what { font-weight: 600; min-height: 2.6em; }
    #strip svg, #flow svg { display: block; }
    .hook { display: none; }
    .temp-button.on { background: #2171b5; color: #fff; border-color: #2171b5; }
    .sweep-column { flex: 1 1 240px; min-width: 220px; max-width: 420px; }
    .sweep-column h3 { margin: 4px 0; }
    .sample { white-space: pre-wrap; word-break: break-all; font-size: 14px; border: 1px solid #e1e4e8; border-radius: 4px; padding: 6px 8px; margin: 6px 0 2px 0; background: #fff; }
    .sample .given { color: #8a8f98; }
    .stats { font-size: 12px; color: #555; margin-bottom: 8px; }
    #prompt-input { width: 100%; max-width: 60em; font-size: 15px; }
    #prompt-error { color: #d62728; }
    """
}
