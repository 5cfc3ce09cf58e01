/* report_assets.h: the page of `xtrace report` (reader/cli/report/), built into the binary:
 * each file's text, NUL-terminated. */
#ifndef XT_REPORT_ASSETS_H
#define XT_REPORT_ASSETS_H

/* The HTML template, with @@TITLE@@, @@STYLE@@, @@SCRIPT@@ and @@DATA@@ where report.c puts
 * the title, report.css, report.js and the data. */
extern const char xt_report_html[];
extern const char xt_report_css[];
extern const char xt_report_js[];

#endif
