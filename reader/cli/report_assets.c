/* report_assets.c: the files of reader/cli/report/ as read-only data (see report_assets.h),
 * included by the assembler (.incbin, paths from the top of the tree, where make runs), so the
 * page is edited as HTML, CSS and JavaScript, never as C strings. The Makefile rebuilds this
 * object when one of them changes. */
#include "report_assets.h"

#define XT_ASSET(sym, file)                                                  \
	".globl " #sym "\n.hidden " #sym "\n.type " #sym ", @object\n" #sym ":\n" \
	".incbin \"" file "\"\n.byte 0\n.size " #sym ", . - " #sym "\n"

__asm__(".pushsection .rodata\n"
	XT_ASSET(xt_report_html, "reader/cli/report/report.html")
	XT_ASSET(xt_report_css, "reader/cli/report/report.css")
	XT_ASSET(xt_report_js, "reader/cli/report/report.js")
	".popsection\n");
