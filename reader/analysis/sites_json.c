/* sites_json.c: allocation sites as JSON (see sites_json.h). */
#include "sites_json.h"

#include <string.h>

void xt_put_name_json(struct xt_out *o, const struct xt_names *n, uint32_t id)
{
	if (id == XT_NO_NAME)
		xt_out_str(o, "null");
	else
		xt_out_json_str(o, xt_names_str(n, id), xt_names_len(n, id));
}

void xt_put_frames_json(struct xt_out *o, const struct xt_sites *s, uint32_t site)
{
	const struct xt_names *n = &s->names;
	const struct xt_frame_info *f;
	xt_out_char(o, '[');
	for (size_t i = 0; (f = xt_site_frame(s, site, i)); i++) {
		xt_out_str(o, i ? ", {\"pc\": " : "{\"pc\": ");
		xt_out_u64(o, f->pc);
		xt_out_str(o, ", \"function\": ");
		xt_put_name_json(o, n, f->function);
		xt_out_str(o, ", \"symbol\": ");
		xt_put_name_json(o, n, f->symbol);
		xt_out_str(o, ", \"file\": ");
		xt_put_name_json(o, n, f->file);
		xt_out_printf(o, ", \"line\": %d, \"module\": ", f->line);
		xt_put_name_json(o, n, f->module);
		xt_out_printf(o, ", \"offset\": %llu, \"inlined\": %s}", (unsigned long long)f->offset,
			      f->inlined ? "true" : "false");
	}
	xt_out_char(o, ']');
}

void xt_put_groups_json(struct xt_out *o, const struct xt_sites *s, const struct xt_group *g,
			size_t n, int ranked, enum xt_grouping by)
{
	xt_out_char(o, '[');
	for (size_t i = 0; i < n; i++) {
		xt_out_str(o, i ? ",\n    {" : "\n    {");
		if (ranked)
			xt_out_printf(o, "\"rank\": %zu, ", i + 1);
		xt_out_str(o, "\"key\": ");
		xt_put_name_json(o, &s->names, g[i].key);
		xt_put_counts_json(o, &g[i].c);
		if (ranked) {
			/* Only a stack group is one site, in at most one region. */
			const char *region = xt_site_region(s, g[i].site);
			xt_out_str(o, ", \"region\": ");
			if (region && by == XT_GROUP_STACK)
				xt_out_json_str(o, region, strlen(region));
			else
				xt_out_str(o, "null");
		}
		xt_out_str(o, ", \"frames\": ");
		xt_put_frames_json(o, s, g[i].site);
		xt_out_char(o, '}');
	}
	xt_out_str(o, "\n  ]");
}

void xt_put_counts_json(struct xt_out *o, const struct xt_counts *c)
{
	xt_out_printf(o, ", \"allocs\": %llu, \"bytes\": %llu, \"frees\": %llu, \"temporary\": %llu, "
		      "\"temporary_bytes\": %llu, \"leaked_objects\": %llu, \"leaked_bytes\": %llu, "
		      "\"peak_bytes\": %llu",
		      (unsigned long long)c->allocs, (unsigned long long)c->bytes,
		      (unsigned long long)c->frees, (unsigned long long)c->temporary,
		      (unsigned long long)c->temporary_bytes, (unsigned long long)c->live_objects,
		      (unsigned long long)c->live_bytes, (unsigned long long)c->peak_bytes);
}

void xt_top_put_json(struct xt_out *o, const char *path, enum xtrace_status st,
		     const struct xt_summary *sum, const struct xt_sites *s, uint64_t peak_time_ns,
		     const struct xt_top_query *q, const struct xt_group *g, size_t n)
{
	xt_out_str(o, "{\n  \"file\": ");
	xt_out_json_str(o, path, strlen(path));
	xt_out_str(o, ",\n  \"heap\": ");
	xt_out_json_str(o, sum->heap_name, strlen(sum->heap_name));
	xt_out_printf(o, ",\n  \"by\": \"%s\",\n  \"group\": \"%s\",\n  \"region\": ",
		      xt_metric_name(q->by), xt_grouping_name(q->group));
	if (q->region)
		xt_out_json_str(o, q->region, strlen(q->region));
	else
		xt_out_str(o, "null");
	xt_out_printf(o, ",\n  \"truncated\": %s", st == XTRACE_ERR_TRUNCATED ? "true" : "false");
	xt_sampling_put_json(o, sum->sampling.mean);
	xt_out_printf(o, ",\n  \"peak_live_bytes\": %llu,\n  \"peak_time_ns\": %llu",
		      (unsigned long long)sum->selected->peak_live_bytes, (unsigned long long)peak_time_ns);
	xt_out_str(o, ",\n  \"totals\": {\"sites\": ");
	xt_out_u64(o, n);
	xt_put_counts_json(o, &s->total);
	xt_out_str(o, "},\n  \"sites\": ");
	xt_put_groups_json(o, s, g, (long)n < q->count ? n : (size_t)q->count, 1, q->group);
	xt_out_str(o, "\n}\n");
}
