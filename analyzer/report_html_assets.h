/* The HTML report's script and style, embedded at build time from analyzer/html/
 * (report.js, report.css) by analyzer/html/embed.cmake; NUL-terminated. */
#ifndef HP_REPORT_HTML_ASSETS_H
#define HP_REPORT_HTML_ASSETS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const unsigned char hp_html_js[];
extern const size_t hp_html_js_len;
extern const unsigned char hp_html_css[];
extern const size_t hp_html_css_len;

#ifdef __cplusplus
}
#endif
#endif
