"""The default print stylesheet, a Python string so it ships with the code and needs no file.

Pass it to ``render_pdf(stylesheets=[BASE_CSS])`` or put it in the template's <style> block.
Running heads come from elements carrying these classes (place them early in the document:
a page shows the value set on it or on an earlier page):

- ``.pdf-program``: the program name, top left;
- ``.pdf-reference``: the application's reference number, top right;
- ``.pdf-hash``: the SHA-256 of the record's content, bottom left.

Set ``<html lang="ja">`` too: Pango picks Japanese (not Chinese) kanji shapes from it.
"""

from __future__ import annotations

BASE_CSS = """
@page {
  size: A4;
  margin: 20mm 15mm 22mm;
  font-family: "Noto Sans CJK JP", "Noto Serif CJK JP", sans-serif;
  font-size: 8pt;
  color: #444;
  @top-left { content: string(program); }
  @top-right { content: string(reference); }
  @bottom-left {
    content: "SHA-256 " string(hash);
    font-family: "Noto Sans Mono CJK JP", "Noto Sans CJK JP", monospace;
    font-size: 6.5pt;
  }
  @bottom-right { content: counter(page) " / " counter(pages); }
}
.pdf-program { string-set: program content(text); }
.pdf-reference { string-set: reference content(text); }
.pdf-hash { string-set: hash content(text); }

html {
  font-family: "Noto Sans CJK JP", "Noto Serif CJK JP", sans-serif;
  font-size: 10pt;
  line-height: 1.6;
  color: #111;
}
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
h1, h2, h3 { line-height: 1.3; break-after: avoid; }
p { margin: 0 0 2mm; orphans: 2; widows: 2; }

table { width: 100%; border-collapse: collapse; margin: 0 0 4mm; font-size: 9pt; }
caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
thead { display: table-header-group; }  /* repeated on every page the table spans */
tr { break-inside: avoid; }
th, td {
  border: 0.5pt solid #999;
  padding: 1.2mm 2mm;
  text-align: left;
  vertical-align: top;
  overflow-wrap: anywhere;  /* long URLs and e-mail addresses wrap instead of overflowing */
}
th { background: #eee; font-weight: bold; }
tbody tr:nth-child(even) td { background: #f8f8f8; }
.yen, .number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.yen::after { content: "円"; }
.pdf-hash { font-family: "Noto Sans Mono CJK JP", monospace; overflow-wrap: anywhere; }
"""
