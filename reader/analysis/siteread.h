/* siteread.h: reading a trace into its allocation sites, for the site commands (top, leaks, peak,
 * flame, diff, report) and the library's top (xtrace-analysis.h): one summary pass that credits
 * each allocation to its site, and when each site's share of the peak is wanted, a second read
 * of the same file up to the event that first reached it. */
#ifndef XT_SITEREAD_H
#define XT_SITEREAD_H

#include "summary.h"

/* xt_sites_read reads r to its end into sum and pass->sites (both initialized by the caller;
 * pass->on_event sees both reads, the second with pass->sites->peak_pass set), then with peak
 * reads path again up to the peak of the heap pass->heap names. *st gets how the first read ended (XTRACE_ERR_NOMEM too when
 * the second ran out of memory). Returns 0, or -1 when path could not be opened again (err
 * says why). */
int xt_sites_read(xtrace_reader *r, const char *path, struct xt_summary *sum, struct xt_pass *pass,
		  int peak, enum xtrace_status *st, char *err, size_t errlen);

#endif
