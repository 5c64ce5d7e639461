#pragma once
// A plain table (header, rows of text cells, footnotes, source caption) and its renderings as
// Markdown, CSV, LaTeX and HTML. Every report table goes through here, so the four formats
// agree on content and escaping.
#include <string>
#include <vector>

namespace dsv3::reports {

enum class Format { markdown, csv, latex, html };

// "md"/"markdown", "csv", "latex"/"tex", "html". Throws dsv3::InputError naming `what`.
Format parse_format(const std::string& name, const std::string& what = "--format");

struct Table {
  std::string title;                          // heading above the table (may be empty)
  std::vector<std::string> header;            // column names
  std::vector<std::vector<std::string>> rows; // each row has header.size() cells
  std::vector<bool> numeric;                  // per column: right-align (optional)
  std::vector<std::string> notes;             // footnotes, printed below the table
  std::string source;                         // "Source: ..." caption (may be empty)
};

// Renders one table. CSV carries the header and rows only (notes and source become
// "# "-prefixed comment lines after the data so spreadsheet readers can skip them).
std::string render(const Table& t, Format f);

// Escaping helpers (exposed for the HTML page and tests).
std::string html_escape(const std::string& s);
std::string latex_escape(const std::string& s);
std::string csv_field(const std::string& s);

}  // namespace dsv3::reports
