// The pages' code as files: Pages/*.html, *.css and *.js, compiled into the binary by SwiftPM
// (`resources: [.embedInCode(…)]` in Package.swift generates `PackageResources.<name>_<ext>`,
// the file's bytes), so a page written by the tool stays one file with nothing fetched, and
// the code itself is in files an editor highlights and `node --check` reads (.ci/run).
// Swift fills in only data: the title, the language, the body's markup and JSON blocks.

import Foundation

/// The embedded page files, as text.
enum PageFiles {
    /// The HTML document every page is poured into; `{{name}}` marks what `HTMLPage` fills in.
    static let skeleton = text(PackageResources.page_html)
    /// The colours and fonts every page and chart shares (read by `Theme`).
    static let theme = text(PackageResources.theme_css)
    /// The style every page shares.
    static let pageStyle = text(PackageResources.page_css)
    static let inspectorMarkup = text(PackageResources.inspector_html)
    static let inspectorStyle = text(PackageResources.inspector_css)
    static let inspectorScript = text(PackageResources.inspector_js)
    static let inspectorModelScript = text(PackageResources.inspector_model_js)
    static let reportStyle = text(PackageResources.report_css)
    static let reportScript = text(PackageResources.report_js)

    /// A file's bytes as text; the files are UTF-8 (checked by PageFilesTests).
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// `template` with every `{{name}}` replaced by `values[name]`, in one pass (so a `{{` in a
    /// value is left alone). A name without a value is a programming error.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(template.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let name = String(rest[open.upperBound..<close.lowerBound])
            guard let value = values[name] else { preconditionFailure("the page template has no value for {{\(name)}}") }
            out += value
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }
}

/// The custom properties of theme.css (`--name: value;`, one a line): the one palette and the
/// font lists, read here for the SVG charts and by the pages' CSS and script in the browser.
enum Theme {
    static let properties: [String: String] = parse(PageFiles.theme)

    /// The value of `--name` in theme.css; a missing name is a programming error.
    static func value(_ name: String) -> String {
        guard let v = properties[name] else { preconditionFailure("theme.css does not set \(name)") }
        return v
    }

    /// Every `--name: value;` declaration in `css`, one a line.
    static func parse(_ css: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in css.split(separator: "\n") {
            let t = line.drop { $0 == " " }
            guard t.hasPrefix("--"), let colon = t.firstIndex(of: ":"), t.hasSuffix(";") else { continue }
            let name = String(t[..<colon])
            result[name] = t[t.index(after: colon)...].dropLast().trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// `--prefix0`, `--prefix1`, … for as long as theme.css sets them.
    static func numbered(_ prefix: String) -> [String] {
        var values: [String] = []
        while let v = properties["--\(prefix)\(values.count)"] { values.append(v) }
        return values
    }
}
