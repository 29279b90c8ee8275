/* The HTML pages' scripts and style, embedded at build time from analyzer/html/ by
 * analyzer/html/embed.cmake (hp_html_<file>_<extension>); NUL-terminated. common.js comes
 * first in every page, then the page's own: report.js (one run) or diff.js (two). */
#ifndef HP_REPORT_HTML_ASSETS_H
#define HP_REPORT_HTML_ASSETS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const unsigned char hp_html_common_js[], hp_html_report_js[], hp_html_diff_js[];
extern const size_t hp_html_common_js_len, hp_html_report_js_len, hp_html_diff_js_len;
extern const unsigned char hp_html_report_css[];
extern const size_t hp_html_report_css_len;

#ifdef __cplusplus
}
#endif
#endif
