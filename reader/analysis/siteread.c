/* siteread.c: a trace read into its allocation sites (see siteread.h). */
#include "siteread.h"

int xt_sites_read(xtrace_reader *r, const char *path, struct xt_summary *sum, struct xt_pass *pass,
		  int peak, enum xtrace_status *st, char *err, size_t errlen)
{
	struct xt_sites *sites = pass->sites;
	*st = xt_summarize_pass(r, sum, pass);
	/* a heap the trace does not name (xt_summary_heap_missing) has no peak */
	if (*st == XTRACE_ERR_NOMEM || !peak || !sum->selected->peak_event)
		return 0;
	/* The second read stops at the event that first reached the peak: live bytes per site are
	 * then each site's share of it. */
	xtrace_reader *r2 = xtrace_open(path, err, errlen);
	if (!r2)
		return -1;
	struct xt_summary s2;
	xt_sites_peak_pass(sites);
	pass->stop_event = sum->selected->peak_event;
	enum xtrace_status st2 = xt_summarize_pass(r2, &s2, pass);
	xt_summary_destroy(&s2);
	xtrace_close(r2);
	if (st2 == XTRACE_ERR_NOMEM)
		*st = st2;
	for (size_t i = 0; i < sites->count; i++)
		sites->total.peak_bytes += sites->site[i].c.peak_bytes;
	return 0;
}
