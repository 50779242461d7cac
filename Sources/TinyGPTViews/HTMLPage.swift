// One self-contained HTML page: inline CSS, inline SVG, an optional inline script written
// here (the inspector's), no external URLs.
// The markup is also well-formed XML (XHTML syntax in an HTML5 document), so a browser opens
// it as HTML and an XML parser can check it.

import TinyGPT

/// Builds a report page piece by piece; `render()` returns the whole file.
public struct HTMLPage {
    public var title: String
    /// CSS added after the shared style sheet. Must not contain `<` or `&`.
    public var extraStyle: String = ""
    /// The document's language (`lang` attribute): "en" or "zh".
    public var language: String = "en"
    /// JavaScript run at the end of the body, inside a CDATA section so the file stays XML.
    /// Must not contain `</script` or `]]>`.
    public var script: String = ""
    public private(set) var body = ""

    public init(title: String) {
        self.title = title
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

    /// The whole document.
    public func render() -> String {
        precondition(!extraStyle.contains("<") && !extraStyle.contains("&"), "CSS must not contain < or &")
        precondition(!script.contains("</script") && !script.contains("]]>"), "the script must not close its element")
        let scriptElement = script.isEmpty ? "" : "<script>//<![CDATA[\n\(script)\n//]]></script>\n"
        return """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="\(Markup.escape(language))">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(Markup.escape(title))</title>
        <style>
        \(Self.sharedStyle)
        \(extraStyle)
        </style>
        </head>
        <body>
        <h1>\(Markup.escape(title))</h1>
        \(body)\(scriptElement)</body>
        </html>

        """
    }

    static let sharedStyle = """
    body { font-family: \(Markup.sansFonts); color: #222; background: #fff; margin: 24px 32px; line-height: 1.45; }
    h1 { font-size: 22px; margin: 0 0 8px 0; }
    h2 { font-size: 17px; margin: 28px 0 8px 0; border-bottom: 1px solid #e3e3e3; padding-bottom: 4px; }
    h3 { font-size: 15px; margin: 0 0 4px 0; }
    p { margin: 6px 0; max-width: 70em; }
    .note { color: #555; font-size: 13px; }
    .mono { font-family: \(Markup.monoFonts); }
    .row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
    .card { border: 1px solid #e1e4e8; border-radius: 6px; padding: 10px 12px; background: #fcfcfd; }
    .formula { font-size: 18px; margin: 10px 0; font-family: 'Times New Roman', 'Noto Serif CJK SC', serif; }
    .frac { display: inline-block; vertical-align: middle; text-align: center; margin: 0 4px; }
    .frac span { display: block; padding: 0 4px; }
    .frac .den { border-top: 1px solid #222; }
    table { border-collapse: collapse; font-size: 13px; }
    th, td { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    """
}
