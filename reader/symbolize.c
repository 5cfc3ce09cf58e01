/* symbolize.c: offline symbolization of return addresses with elfutils' libdwfl, from the
 * module table of the reader's current generation. Each object is opened once per
 * (path, load bias, build ID) and kept until the symbolizer is freed, across generations. */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct xt_symmod {
	char *path;
	uint64_t base;
	uint8_t build_id[XT_MAX_BUILDID];
	size_t build_id_len;
	Dwfl *dwfl;
	Dwfl_Module *mod; /* NULL: the file is missing, unreadable or not the traced one */
};

struct xtrace_symbolizer {
	struct xt_symmod *m;
	size_t n, cap;
};

static char *xt_debuginfo_path;

static const Dwfl_Callbacks xt_offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &xt_debuginfo_path,
};

xtrace_symbolizer *xtrace_symbolizer_new(void)
{
	return calloc(1, sizeof(xtrace_symbolizer));
}

void xtrace_symbolizer_free(xtrace_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->m[i].dwfl)
			dwfl_end(s->m[i].dwfl);
		free(s->m[i].path);
	}
	free(s->m);
	free(s);
}

/* xt_open_module reports one object to its own Dwfl: objects of different generations may
 * overlap in address, so they cannot share one address map. */
static void xt_open_module(struct xt_symmod *sm)
{
	/* The path comes from the trace: only a regular file is read. O_NONBLOCK keeps the open
	 * of a FIFO from waiting for a writer; a device or directory is never read at all. */
	int fd = open(sm->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	sm->dwfl = dwfl_begin(&xt_offline_callbacks);
	if (!sm->dwfl) {
		close(fd);
		return;
	}
	dwfl_report_begin(sm->dwfl);
	/* libdwfl owns fd from here (closed by dwfl_end, or at once if the report fails) */
	Dwfl_Module *mod = dwfl_report_elf(sm->dwfl, sm->path, sm->path, fd, sm->base, false);
	dwfl_report_end(sm->dwfl, NULL, NULL);
	if (!mod)
		return;
	if (sm->build_id_len) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(mod, &bits, &vaddr);
		/* The file at that path is not the object that was traced: its symbols would lie. */
		if (n != (int)sm->build_id_len || memcmp(bits, sm->build_id, sm->build_id_len) != 0)
			return;
	}
	sm->mod = mod;
}

static struct xt_symmod *xt_find_module(xtrace_symbolizer *s, const struct xtrace_module *m)
{
	for (size_t i = 0; i < s->n; i++) {
		struct xt_symmod *sm = &s->m[i];
		if (sm->base == m->base && sm->build_id_len == m->build_id_len &&
		    strcmp(sm->path, m->path) == 0 &&
		    (!m->build_id_len || memcmp(sm->build_id, m->build_id, m->build_id_len) == 0))
			return sm;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct xt_symmod *a = realloc(s->m, cap * sizeof *a);
		if (!a)
			return NULL;
		s->m = a;
		s->cap = cap;
	}
	struct xt_symmod *sm = &s->m[s->n];
	memset(sm, 0, sizeof *sm);
	sm->path = strdup(m->path);
	if (!sm->path)
		return NULL;
	s->n++;
	sm->base = m->base;
	sm->build_id_len = m->build_id_len <= XT_MAX_BUILDID ? m->build_id_len : 0;
	if (sm->build_id_len)
		memcpy(sm->build_id, m->build_id, sm->build_id_len);
	xt_open_module(sm);
	return sm;
}

void xtrace_symbolize(xtrace_symbolizer *s, const xtrace_reader *r, uint64_t pc,
		      struct xtrace_frame *out)
{
	memset(out, 0, sizeof *out);
	out->pc = pc;
	out->module_offset = pc;
	const struct xtrace_module *m = xtrace_module_of(r, pc);
	if (!m)
		return;
	out->module_offset = pc - m->base;
	struct xt_symmod *sm = xt_find_module(s, m);
	if (!sm)
		return;
	out->module = sm->path;
	if (!sm->mod)
		return;
	/* pc is a return address: pc - 1 is inside the call instruction, on the caller's line. */
	Dwarf_Addr a = pc - 1;
	out->function = dwfl_module_addrname(sm->mod, a);
	Dwfl_Line *line = dwfl_module_getsrc(sm->mod, a);
	if (line) {
		int lineno = 0;
		out->file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		out->line = lineno;
	}
}
