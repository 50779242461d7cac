// The inspector page's code, from its files in Pages/: the fixed markup (inspector.html: the
// sections' frames, whose words and numbers the script fills in), the style (inspector.css)
// and the script (inspector.js, with inspector-model.js, the forward pass the page runs with
// --with-model, put where inspector.js says "//@MODEL@", and inspector-learning.js, the
// learning half, where it says "//@LEARNING@"; inspector-learning.css after the style).

enum InspectorLayout {
    static let body = PageFiles.inspectorMarkup
    static let style = PageFiles.inspectorStyle + "\n" + PageFiles.inspectorLearningStyle
    static let script: String = {
        var script = PageFiles.inspectorScript
        for (mark, file) in [("//@MODEL@", PageFiles.inspectorModelScript), ("//@LEARNING@", PageFiles.inspectorLearningScript)] {
            let parts = script.components(separatedBy: "\n" + mark + "\n")
            precondition(parts.count == 2, "inspector.js holds the line \(mark) once")
            script = parts[0] + "\n" + file + parts[1]
        }
        return script
    }()
}
