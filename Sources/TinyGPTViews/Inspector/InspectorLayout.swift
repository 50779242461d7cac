// The inspector page's code, from its files in Pages/: the fixed markup (inspector.html: the
// sections' frames, whose words and numbers the script fills in), the style (inspector.css)
// and the script (inspector.js, with inspector-model.js, the forward pass the page runs with
// --with-model, put where inspector.js says "//@MODEL@").

enum InspectorLayout {
    static let body = PageFiles.inspectorMarkup
    static let style = PageFiles.inspectorStyle
    static let script: String = {
        let parts = PageFiles.inspectorScript.components(separatedBy: "\n//@MODEL@\n")
        precondition(parts.count == 2, "inspector.js holds the line //@MODEL@ once")
        return parts[0] + "\n" + PageFiles.inspectorModelScript + parts[1]
    }()
}
