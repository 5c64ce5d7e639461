#include "reports/table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "model/errors.hpp"

namespace dsv3::reports {

Format parse_format(const std::string& name, const std::string& what) {
  if (name == "md" || name == "markdown") return Format::markdown;
  if (name == "csv") return Format::csv;
  if (name == "latex" || name == "tex") return Format::latex;
  if (name == "html") return Format::html;
  throw InputError(fmt::format("{}: unknown format '{}' (expected md, csv, latex or html)", what, name));
}

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string latex_escape(const std::string& s) {
  std::string o;
  size_t i = 0;
  while (i < s.size()) {
    // UTF-8 symbols used in cells.
    auto starts = [&](const char* u) { return s.compare(i, std::char_traits<char>::length(u), u) == 0; };
    if (starts("±")) { o += "$\\pm$"; i += std::string("±").size(); continue; }
    if (starts("†")) { o += "$^\\dagger$"; i += std::string("†").size(); continue; }
    if (starts("‡")) { o += "$^\\ddagger$"; i += std::string("‡").size(); continue; }
    if (starts("×")) { o += "$\\times$"; i += std::string("×").size(); continue; }
    if (starts("–")) { o += "--"; i += std::string("–").size(); continue; }
    if (starts("—")) { o += "---"; i += std::string("—").size(); continue; }
    if (starts("≈")) { o += "$\\approx$"; i += std::string("≈").size(); continue; }
    if (starts("≥")) { o += "$\\geq$"; i += std::string("≥").size(); continue; }
    if (starts("≤")) { o += "$\\leq$"; i += std::string("≤").size(); continue; }
    char c = s[i++];
    switch (c) {
      case '&': o += "\\&"; break;
      case '%': o += "\\%"; break;
      case '$': o += "\\$"; break;
      case '#': o += "\\#"; break;
      case '_': o += "\\_"; break;
      case '{': o += "\\{"; break;
      case '}': o += "\\}"; break;
      case '~': o += "\\textasciitilde{}"; break;
      case '^': o += "\\textasciicircum{}"; break;
      case '\\': o += "\\textbackslash{}"; break;
      default: o += c;
    }
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

namespace {

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += "<br>";
    else o += c;
  }
  return o;
}

bool is_numeric(const Table& t, size_t col) { return col < t.numeric.size() && t.numeric[col]; }

std::string render_markdown(const Table& t) {
  std::string o;
  if (!t.title.empty()) o += fmt::format("### {}\n\n", t.title);
  o += "|";
  for (auto& h : t.header) o += fmt::format(" {} |", md_cell(h));
  o += "\n|";
  for (size_t c = 0; c < t.header.size(); ++c) o += is_numeric(t, c) ? " ---: |" : " --- |";
  o += "\n";
  for (auto& r : t.rows) {
    o += "|";
    for (auto& cell : r) o += fmt::format(" {} |", md_cell(cell));
    o += "\n";
  }
  // Each note and the source as its own paragraph.
  for (auto& n : t.notes) o += fmt::format("\n{}\n", md_cell(n));
  if (!t.source.empty()) o += fmt::format("\nSource: {}\n", md_cell(t.source));
  return o;
}

std::string render_csv(const Table& t) {
  std::string o;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) o += ',';
      o += csv_field(cells[i]);
    }
    o += "\n";
  };
  line(t.header);
  for (auto& r : t.rows) line(r);
  for (auto& n : t.notes) o += fmt::format("# {}\n", n);
  if (!t.source.empty()) o += "# Source: " + t.source + "\n";
  return o;
}

std::string render_latex(const Table& t) {
  std::string o = "\\begin{table}[ht]\n\\centering\n";
  if (!t.title.empty()) o += "\\caption{" + latex_escape(t.title) + "}\n";
  o += "\\begin{tabular}{";
  for (size_t c = 0; c < t.header.size(); ++c) o += is_numeric(t, c) ? "r" : "l";
  o += "}\n\\hline\n";
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) o += " & ";
      o += latex_escape(cells[i]);
    }
    o += " \\\\\n";
  };
  line(t.header);
  o += "\\hline\n";
  for (auto& r : t.rows) line(r);
  o += "\\hline\n\\end{tabular}\n";
  if (!t.notes.empty() || !t.source.empty()) {
    o += "\\par\\smallskip\\footnotesize\n";
    for (auto& n : t.notes) o += latex_escape(n) + "\\\\\n";
    if (!t.source.empty()) o += "Source: " + latex_escape(t.source) + "\n";
  }
  o += "\\end{table}\n";
  return o;
}

std::string render_html(const Table& t) {
  std::string o = "<table class=\"dsv3\">\n";
  if (!t.title.empty()) o += "<caption>" + html_escape(t.title) + "</caption>\n";
  o += "<thead><tr>";
  for (auto& h : t.header) o += "<th>" + html_escape(h) + "</th>";
  o += "</tr></thead>\n<tbody>\n";
  for (auto& r : t.rows) {
    o += "<tr>";
    for (size_t c = 0; c < r.size(); ++c)
      o += (is_numeric(t, c) ? "<td class=\"num\">" : "<td>") + html_escape(r[c]) + "</td>";
    o += "</tr>\n";
  }
  o += "</tbody>\n</table>\n";
  if (!t.notes.empty() || !t.source.empty()) {
    o += "<div class=\"notes\">\n";
    for (auto& n : t.notes) o += "<p>" + html_escape(n) + "</p>\n";
    if (!t.source.empty()) o += "<p class=\"source\">Source: " + html_escape(t.source) + "</p>\n";
    o += "</div>\n";
  }
  return o;
}

}  // namespace

std::string render(const Table& t, Format f) {
  for (size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i].size() != t.header.size())
      throw std::logic_error(fmt::format("table '{}': row {} has {} cells for {} columns", t.title, i,
                                         t.rows[i].size(), t.header.size()));
  switch (f) {
    case Format::markdown: return render_markdown(t);
    case Format::csv: return render_csv(t);
    case Format::latex: return render_latex(t);
    case Format::html: return render_html(t);
  }
  return {};
}

}  // namespace dsv3::reports
