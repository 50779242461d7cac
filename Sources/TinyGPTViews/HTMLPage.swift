// One self-contained HTML page: the skeleton Pages/page.html with the shared style
// (theme.css, page.css), the page's own style and script (its files in Pages/), and the body
// the page builds; no external URLs. Every page the tool writes is made here.
// The markup is also well-formed XML (XHTML syntax in an HTML5 document), so a browser opens
// it as HTML and an XML parser can check it.

import TinyGPT

/// Builds a report page piece by piece; `render()` returns the whole file.
public struct HTMLPage {
    public var title: String
    /// CSS added after the shared style sheets (a page's own file). Must not contain `<` or `&`.
    public var extraStyle: String = ""
    /// The document's language (`lang` attribute): "en" or "zh".
    public var language: String = "en"
    /// More attributes of the `<html>` element (name, value), e.g. the report's `data-lang`.
    public var rootAttributes: [(String, String)] = []
    /// JavaScript run at the end of the body, inside a CDATA section so the file stays XML.
    /// Must not contain `</script` or `]]>`.
    public var script: String = ""
    public private(set) var body = ""

    /// A page whose body opens with the title as its `<h1>` (`heading: false` for a page that
    /// writes its own).
    public init(title: String, heading: Bool = true) {
        self.title = title
        if heading { self.heading(title, level: 1) }
    }

    /// Appends markup that is already escaped and well-formed (e.g. an SVG element).
    public mutating func raw(_ markup: String) {
        body += markup
        body += "\n"
    }

    public mutating func heading(_ text: String, level: Int = 2) {
        let h = min(6, max(1, level))
        raw("<h\(h)>\(Markup.escape(text))</h\(h)>")
    }

    /// A paragraph of plain text (escaped here).
    public mutating func paragraph(_ text: String, className: String? = nil) {
        raw("<p\(Self.classAttribute(className))>\(Markup.escape(text))</p>")
    }

    /// ` class="…"` or nothing.
    static func classAttribute(_ name: String?) -> String {
        name.map { " class=\"\(Markup.escape($0))\"" } ?? ""
    }

    /// `<script type="application/json" id="…">` holding `json` (written with
    /// `JSONText(escaping: .scriptElement)`, so it cannot close the element).
    public mutating func dataBlock(id: String, json: String) {
        dataBlock(id: id, type: "application/json", content: json)
    }

    /// A `<script>` element of a type the browser does not run, holding data for the page's
    /// script (JSON, base64). `content` must not contain `<` or `&`.
    public mutating func dataBlock(id: String, type: String, content: String) {
        precondition(!content.contains("<") && !content.contains("&"), "a data block must not contain < or &")
        raw("<script type=\"\(Markup.escape(type))\" id=\"\(Markup.escape(id))\">" + content + "</script>")
    }

    /// The shared style sheets, in order: the palette and fonts, then the common rules.
    static let sharedStyle = PageFiles.theme + PageFiles.pageStyle

    /// The whole document.
    public func render() -> String {
        precondition(!extraStyle.contains("<") && !extraStyle.contains("&"), "CSS must not contain < or &")
        precondition(!script.contains("</script") && !script.contains("]]>"), "the script must not close its element")
        let attributes = rootAttributes.map { " \($0.0)=\"\(Markup.escape($0.1))\"" }.joined()
        return PageFiles.fill(PageFiles.skeleton, [
            "lang": Markup.escape(language),
            "attributes": attributes,
            "title": Markup.escape(title),
            "style": Self.sharedStyle + extraStyle,
            "body": body,
            "script": script.isEmpty ? "" : "<script>//<![CDATA[\n\(script)\n//]]></script>\n",
        ])
    }
}
