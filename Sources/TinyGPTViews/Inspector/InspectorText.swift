// Every word the inspector page shows, in English and in Chinese (simplified characters,
// worded as a teacher would explain it in class). The page's script looks words up by key;
// "{name}" marks a number or character the script fills in.

import TinyGPT

enum InspectorText {
    static func title(_ language: InspectorPage.Language) -> String {
        language == .zh ? "打开你的模型看一看" : "Inside your model"
    }

    /// key: (English, Chinese).
    static let words: [(String, String, String)] = [
        ("title", "Inside your model", "打开你的模型看一看"),
        ("switch", "中文", "English"),
        ("promptLabel", "Prompt", "提示文字"),
        ("modelLabel", "Model", "模型"),
        ("modelInfo", "{layers} layers × {heads} heads, width {width}, {vocab} characters in the vocabulary",
         "{layers} 层，每层 {heads} 个头，宽度 {width}，词表里有 {vocab} 个字符"),
        ("positionHint", "Click a character to look from that position.", "点提示文字里的任何一个字，就从那个位置看进去。"),

        ("typeHint", "Type a prompt of your own: the model runs right here in the page, and every section follows.",
         "输入你自己的提示文字：模型就在这个页面里运行，下面每一节都会跟着更新。"),
        ("run", "Run the model on this prompt", "用这段文字运行模型"),
        ("unknownCharacter", "“{c}” is not in the model's vocabulary; it never saw this character in training.",
         "「{c}」不在模型的词表里：训练时它从来没见过这个字。"),
        ("emptyPrompt", "Type at least one character.", "请至少输入一个字。"),
        ("s1", "1. The next character", "1. 下一个字是什么"),
        ("s1Intro", "At the end the model gives every character it knows one raw score, a logit z. Softmax turns the scores into probabilities that add up to 1. Dividing by the temperature T first makes the list sharper (small T: steady, predictable text) or flatter (large T: more varied text). T = 0 always takes the top character.",
         "模型的最后一步，会给词表里每一个字符打一个原始分数，叫做 logit（记作 z）。softmax 把这些分数变成加起来等于 1 的概率。先除以温度 T 再做 softmax：T 小，分布变尖，生成的文字稳定、好预测；T 大，分布变平，文字更多样。T = 0 时每次都直接取分数最高的字，叫做贪心。"),
        ("temperature", "Temperature T", "温度 T"),
        ("topK", "top-k: keep only the k most likely", "top-k：只留下最可能的 k 个"),
        ("topP", "top-p: keep the most likely until together they reach p", "top-p：从最可能的开始留，累计概率到 p 为止"),
        ("all", "all", "全部"),
        ("off", "off", "不限"),
        ("greedy", "greedy", "贪心"),
        ("entropy", "Entropy", "熵"),
        ("entropyNote", "bits. 0 means the model is sure; n equally likely choices give log₂ n.",
         "比特。0 表示模型非常确定；如果有 n 个同样可能的选择，熵就是 log₂ n。"),
        ("kept", "{n} characters kept", "留下 {n} 个字符"),
        ("cutNote", "Struck-through bars are cut away by top-k or top-p; the rest are renormalised to add up to 1 again.",
         "画了删除线的是被 top-k 或 top-p 剪掉的候选；剩下的会重新按比例放大，让总和回到 1。"),
        ("formulaIntro", "The formula with today's numbers, for the leading candidates:", "把现在的数字代进公式，看看排在前面的几个候选："),
        ("greedyFormula", "T = 0: no softmax at all; the character with the largest logit is taken.", "T = 0：根本不做 softmax，直接拿 logit 最大的那个字。"),
        ("draw", "Draw the next character", "抽下一个字"),
        ("reset", "Start over", "重来"),
        ("drawExplain", "A random number u between 0 and 1 is drawn. The kept probabilities are laid end to end from 0 to 1, in vocabulary order, as the sampler does: the character whose stretch holds u comes next.",
         "先抽一个 0 到 1 之间的随机数 u。把留下来的概率按词表顺序一段一段接起来，正好铺满 0 到 1（和程序里的采样器做法一样）：u 落在哪个字的那一段，下一个字就是它。"),
        ("drawResult", "u = {u} falls in the stretch of “{c}”, from {a} to {b}.", "u = {u}，落在「{c}」那一段，也就是 {a} 到 {b} 之间。"),
        ("drawGreedy", "T = 0: no random number; the top character “{c}” is taken.", "T = 0：不用抽随机数，直接取最可能的「{c}」。"),
        ("drawnSoFar", "Prompt and the characters drawn so far:", "提示文字，加上目前抽出来的字："),
        ("needModel", "This page carries the model's scores for the prompt only, so it stops after one draw. Make the page with --with-model to keep drawing.",
         "这一页只带着提示文字之后那一步的分数，所以只能抽一次。用 --with-model 生成页面，就可以一直抽下去。"),
        ("candidate", "character", "字符"),
        ("probability", "probability", "概率"),

        ("sweepButtons", "The temperatures of the comparison below:", "下面比较用到的几个温度："),
        ("s5", "Continuations at several temperatures", "同一段开头，换几个温度接着写"),
        ("s5Intro", "The same prompt (grey) continued at each temperature, with the same random numbers, so the columns differ only by T. Low T repeats the safest characters and easily falls into loops; high T tries rarer characters and drifts into nonsense. Click a temperature to see its next-character probabilities in section 1.",
         "同一段提示文字（灰色部分），在每个温度下各接着写一段，用的随机数也完全一样，所以几栏之间唯一的差别就是温度 T。T 小，模型总挑最稳妥的字，很容易原地打转、反复重复；T 大，模型敢挑少见的字，写着写着就可能不成句子了。点一个温度，第 1 节就会显示这个温度下一个字的概率。"),
        ("s5Stats", "Mean log p: the average natural-log probability the model (at T = 1) gives each generated character; closer to 0 means more typical text. Distinct: different characters ÷ all characters. Repeat: the length of the longest stretch that occurs twice; a long repeat at low T is a loop.",
         "平均 log p：模型（按 T = 1 算）给每个生成的字的概率取自然对数再求平均，越接近 0，说明文字越“正常”。不同字比例：不重复的字数 ÷ 总字数。最长重复：出现过两次的最长片段有多长；T 小时这个数很大，往往就是在兜圈子。"),
        ("entropyBits", "entropy {h} bits", "熵 {h} 比特"),
        ("sampleCount", "{n} continuations", "共 {n} 段"),
        ("average", "average", "平均"),
        ("meanLogP", "mean log p {v}", "平均 log p {v}"),
        ("distinct", "distinct {v}", "不同字比例 {v}"),
        ("repeat", "repeat {v}", "最长重复 {v}"),
        ("showT", "show at T = {t}", "在第 1 节看 T = {t}"),

        ("s2", "2. Attention, step by step", "2. 注意力机制，一步一步看"),
        ("s2Intro", "Each position asks a question, its query q. Every position up to it offers a label, its key k, and a content, its value v. The query is compared with each key by a dot product; the scores are divided by √d; positions in the future are masked; softmax turns the scores into weights; and the output is the weighted sum of the values. Click a row of the matrix to choose the query.",
         "每个位置都会提出一个问题，叫查询 q；它自己和前面每个位置都提供一个标签，叫键 k，还有一份内容，叫值 v。把查询和每个键做点积，得到相似程度的分数；分数除以 √d；未来的位置被遮住；softmax 把分数变成权重；最后按权重把各个值加起来，就是输出。点矩阵里的一行，就能选定要看的查询位置。"),
        ("layer", "Layer", "层"),
        ("head", "Head", "头"),
        ("matrixNote", "Rows: the position that looks (query). Columns: the position looked at (key). Darker means more attention; the grey triangle is the masked future.",
         "行：发出查询的位置；列：被看的位置（键）。颜色越深，注意力越大；灰色三角形是被遮住的未来。"),
        ("queryIs", "Query: position {t}, “{c}”", "查询：位置 {t}，「{c}」"),
        ("colKey", "key j", "键 j"),
        ("colChar", "char", "字符"),
        ("colScore", "q·k", "q·k"),
        ("colScaled", "÷ √d", "÷ √d"),
        ("colMask", "mask", "遮罩"),
        ("colWeight", "softmax weight", "softmax 权重"),
        ("colValue", "taken from v_j, ‖a·v_j‖", "从 v_j 取走多少 ‖a·v_j‖"),
        ("maskedRows", "positions {a} to {b} are in the future: masked to −∞, weight 0", "位置 {a} 到 {b} 在未来：遮成 −∞，权重为 0"),
        ("rowSum", "the weights add up to {s}", "权重加起来等于 {s}"),
        ("whySqrt", "Why divide by √d? The dot product of two d-long vectors grows with d; without the scale, softmax would become too peaked and its gradients would almost vanish. Here d = {d}, so √d = {s}.",
         "为什么要除以 √d？两个长度为 d 的向量做点积，数值会跟着 d 变大；如果不缩小，softmax 会变得太尖，梯度几乎消失。这里 d = {d}，所以 √d = {s}。"),
        ("flowTitle", "Where the numbers come from", "这些数字是怎么来的"),
        ("flowX", "stream x", "数据流 x"),
        ("flowOut", "output", "输出"),
        ("flowSearch", "compare with every key", "和每一个键比对"),
        ("flowTake", "take values in proportion", "按比例取出值"),
        ("flowMask", "mask, softmax", "遮住后面，softmax"),

        ("s3", "3. Many heads, many experts", "3. 多头注意力：好几位专家各看各的"),
        ("s3Intro", "Each head has its own W_Q, W_K and W_V, so each learns to look for something different, like several experts reading the same sentence. Under each head: where most of its attention goes on this prompt, measured from its attention weights (the softmax numbers of section 2), not from its parameters. Click a head to open it in section 2.",
         "每个头都有自己的 W_Q、W_K、W_V，所以会学着去找不同的东西，就像几位专家读同一句话，各自留意不同的地方。每个头下面写着：在这段提示文字上，它的注意力大多落在哪里（由第 2 节里那些 softmax 算出的注意力权重统计出来，不是由模型参数量出来的）。点一个头，第 2 节就会打开它。"),
        ("layerHead", "layer {l}, head {h}", "第 {l} 层，第 {h} 个头"),
        ("share", "{p} of its attention", "占它注意力的 {p}"),
        ("previousCharacter", "the previous character", "前一个字"),
        ("itself", "itself", "它自己"),
        ("sameCharacterEarlier", "the same character earlier", "前面出现过的同一个字"),
        ("afterSameCharacter", "the character after an earlier copy of itself", "前面同一个字的下一个字"),
        ("startOfLine", "the start of the line", "这一行的开头"),
        ("startOfWord", "the start of the word", "这个词的开头"),
        ("lastSpace", "the last space or line break before it", "它前面最近的空格或换行"),
        ("recentCharacters", "the last three characters", "最近的三个字"),
        ("firstPosition", "the very first position", "最开头的位置"),
        ("spreadEvenly", "spread evenly over the past", "平均分给前面所有的位置"),
        ("mixed", "no single pattern", "看不出单一的规律"),
        ("strongestSingle", "its largest share on one kind of position: {what}, {p}", "单看一种位置，占比最大的是{what}：{p}"),

        ("s4", "4. The residual stream", "4. 残差流"),
        ("s4Intro", "The embedding starts a stream of numbers at each position. Every block reads the stream and adds back what its attention and its MLP computed: x + Attn(x), then + MLP. The input is never replaced, only added to. The logit lens asks at every stop: if the model ended here (final LayerNorm, then the output layer), what would it predict?",
         "嵌入向量在每个位置开启一条“数据流”。每个区块读进这条流，再把注意力和 MLP 算出来的东西加回去：先 x + Attn(x)，再加上 MLP。原来的输入从来没有被换掉，只是一层一层往上加。“logit 透镜”在每一站问：如果模型在这里就结束（接上最后的 LayerNorm 和输出层），它会猜下一个字是什么？"),
        ("s4IntroNoResidual", "This model has no skip connections (trained with --no-residual): every block replaces the stream with what it computes, x = Attn(x), then x = MLP(x); nothing of its input is carried past it. The logit lens asks at every stop: if the model ended here (final LayerNorm, then the output layer), what would it predict?",
         "这个模型没有残差连接（用 --no-residual 训练）：每个区块都用自己算出来的东西替换掉数据流，先 x = Attn(x)，再 x = MLP(x)；它的输入不会被带到下一层。“logit 透镜”在每一站问：如果模型在这里就结束（接上最后的 LayerNorm 和输出层），它会猜下一个字是什么？"),
        ("colAttnOut", "attention output", "注意力的输出"),
        ("colMlpOut", "MLP output", "MLP 的输出"),
        ("nextAfter", "After position {t}, “{c}”: what the model predicts there (click the last character to go back).",
         "位置 {t}「{c}」之后：模型在这里预测的下一个字（点最后一个字就回到结尾）。"),
        ("positionIs", "Position {t}, “{c}”: predicting the character after it", "位置 {t}「{c}」：预测它后面的那个字"),
        ("colStage", "stop", "站点"),
        ("colSize", "stream size ‖x‖", "数据流大小 ‖x‖"),
        ("colAttn", "attention added", "注意力加了"),
        ("colMlp", "MLP added", "MLP 加了"),
        ("colLens", "would predict (top 5)", "这时会猜（前 5 名）"),
        ("embedding", "embedding", "嵌入"),
        ("afterBlock", "after block {n}", "第 {n} 个区块之后"),
        ("finalNote", "The last row is the model's real prediction. Right after the embedding the lens often names the character itself: the output layer reuses the embedding matrix (weight tying).",
         "最后一行就是模型真正的预测。刚做完嵌入时，透镜常常猜的就是这个字本身：因为输出层和嵌入层共用同一个矩阵（权重共享）。"),
        ("strongest", "the strongest keys are highlighted", "权重最大的几个键用底色标出来了"),
    ]

    /// `{"en": {key: words, …}, "zh": {…}}`, the page's `inspector-words` block.
    static var json: String {
        var j = JSONText(escaping: .scriptElement)
        j.open()
        for (index, language) in ["en", "zh"].enumerated() {
            j.key(language)
            j.open()
            for (key, en, zh) in words {
                j.key(key)
                j.string(index == 0 ? en : zh)
            }
            j.close()
        }
        j.close()
        return j.text
    }
}
