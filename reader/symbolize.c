/* symbolize.c: offline symbolization of return addresses with elfutils' libdwfl, from the
 * module table of the reader's current generation. Each object is opened once per
 * (path, load bias, build ID) and kept until the symbolizer is freed, across generations.
 * A return address expands into the chain of calls inlined at it (the DWARF scopes holding it:
 * DW_TAG_inlined_subroutine, each with its call site), as addr2line -i does. Each distinct
 * address (per object) is looked up once: its chain and the readable names in it stay in an
 * arena until the symbolizer is freed, so callers may keep the pointers. */
#include <dwarf.h>
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
	/* Its function symbols by address, read at the first lookup: libdwfl's own lookup scans
	 * the whole table each time, too slow for a program with 100,000 symbols. */
	struct xt_sym *syms;
	size_t nsyms;
	int syms_read;
};

struct xt_sym {
	uint64_t lo, size;  /* absolute address; 0: unknown size, reaches to the next symbol */
	const char *name;
	uint32_t rank;      /* while sorting: which of the names at one address is shown */
};

/* Stable storage: blocks that never move, freed all at once. */
struct xt_arena_block {
	struct xt_arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

/* A cache entry: (a, b) -> (val, n). Chains: (pc, object index + 1, or 0 outside any object;
 * XT_KEY_NOWHERE for pc 0 there, as (0, 0) marks an empty slot) -> the frames and their count.
 * Names: (address of a name libdw handed out, XT_KEY_NAME) -> its readable form; (address of
 * a DIE, XT_KEY_DIE) -> the name of the function it declares;
 * (address of a compile unit's DIE, XT_KEY_CU) -> its functions by address (n of them). */
struct xt_symkey {
	uint64_t a, b;
	const void *val;
	size_t n;
};
#define XT_KEY_NAME UINT64_MAX
#define XT_KEY_DIE (UINT64_MAX - 1)
#define XT_KEY_NOWHERE (UINT64_MAX - 2)
#define XT_KEY_CU (UINT64_MAX - 3)

struct xtrace_symbolizer {
	struct xt_symmod *m;
	size_t n, cap;
	size_t last;                 /* the object found last: the frames of one stack cluster */
	struct xt_symkey *keys;      /* open addressing, a == 0 && b == 0 empty */
	size_t mask, nkeys;
	struct xt_arena_block *arena;
	struct xt_namebuf name;
};

/* The inlined calls followed at one address, at most (deeper ones are cut off at the inner end). */
#define XT_MAX_INLINE 64

static char *xt_debuginfo_path;

static const Dwfl_Callbacks xt_offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &xt_debuginfo_path,
};

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

static int same_module(const struct xt_symmod *sm, const struct xtrace_module *m)
{
	return sm->base == m->base && sm->build_id_len == m->build_id_len &&
	       strcmp(sm->path, m->path) == 0 &&
	       (!m->build_id_len || memcmp(sm->build_id, m->build_id, m->build_id_len) == 0);
}

static struct xt_symmod *xt_find_module(xtrace_symbolizer *s, const struct xtrace_module *m)
{
	if (s->last < s->n && same_module(&s->m[s->last], m))
		return &s->m[s->last];
	for (size_t i = 0; i < s->n; i++)
		if (same_module(&s->m[i], m))
			return &s->m[s->last = i];
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
	s->last = (size_t)(sm - s->m);
	return sm;
}


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
		free(s->m[i].syms);
	}
	for (struct xt_arena_block *b = s->arena, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(s->m);
	free(s->keys);
	free(s->name.p);
	free(s);
}

static void *arena_alloc(xtrace_symbolizer *s, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct xt_arena_block *b = s->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		/* A big request gets a block of its own, behind the current one, which still has room. */
		if (s->arena && cap > 65536) {
			b->next = s->arena->next;
			s->arena->next = b;
		} else {
			b->next = s->arena;
			s->arena = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

static char *arena_strdup(xtrace_symbolizer *s, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = arena_alloc(s, n);
	return p ? memcpy(p, str, n) : NULL;
}

static size_t key_slot(const xtrace_symbolizer *s, uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15u)) * 0xff51afd7ed558ccdu;
	size_t i = (size_t)(h ^ (h >> 32)) & s->mask;
	while ((s->keys[i].a || s->keys[i].b) && (s->keys[i].a != a || s->keys[i].b != b))
		i = (i + 1) & s->mask;
	return i;
}

static const struct xt_symkey *key_find(const xtrace_symbolizer *s, uint64_t a, uint64_t b)
{
	if (!s->keys)
		return NULL;
	const struct xt_symkey *k = &s->keys[key_slot(s, a, b)];
	return k->a || k->b ? k : NULL;
}

/* key_put records (a, b) -> (val, n), a new key: 0, or -1 without memory. */
static int key_put(xtrace_symbolizer *s, uint64_t a, uint64_t b, const void *val, size_t n)
{
	if (2 * (s->nkeys + 1) > s->mask + 1 || !s->keys) {
		size_t cap = s->keys ? 2 * (s->mask + 1) : 1024;
		struct xt_symkey *old = s->keys;
		size_t oldcap = s->keys ? s->mask + 1 : 0;
		if (!(s->keys = calloc(cap, sizeof *s->keys))) {
			s->keys = old;
			return -1;
		}
		s->mask = cap - 1;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].a || old[i].b)
				s->keys[key_slot(s, old[i].a, old[i].b)] = old[i];
		free(old);
	}
	s->keys[key_slot(s, a, b)] = (struct xt_symkey){a, b, val, n};
	s->nkeys++;
	return 0;
}

/* readable returns the readable form of raw, a name libdw handed out (stable while its object
 * is open), looked up once per name: NULL for NULL or without memory. */
static const char *readable(xtrace_symbolizer *s, const char *raw)
{
	if (!raw)
		return NULL;
	const struct xt_symkey *k = key_find(s, (uintptr_t)raw, XT_KEY_NAME);
	if (k)
		return k->val;
	const char *name = xt_readable_name(raw, &s->name);
	/* Most names read as they are spelled: no copy then. */
	const char *keep = !name ? NULL : strcmp(name, raw) == 0 ? raw : arena_strdup(s, name);
	if (!keep || key_put(s, (uintptr_t)raw, XT_KEY_NAME, keep, 0) < 0)
		return NULL;
	return keep;
}

/* qualified_name writes into s->name the C++ scopes around declaration decl (namespaces,
 * classes) and its name: "std::vector<int, std::allocator<int> >::vector". For functions the
 * compiler gave no linkage name, constructors above all. */
static const char *qualified_name(xtrace_symbolizer *s, Dwarf_Die *decl, const char *name)
{
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes_die(decl, &scopes);
	struct xt_namebuf *b = &s->name;
	b->len = 0;
	b->failed = 0;
	for (int i = n - 1; i >= 1; i--) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_namespace && tag != DW_TAG_class_type &&
		    tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
			continue;
		const char *scope = dwarf_diename(&scopes[i]);
		xt_namebuf_put(b, scope ? scope : "(anonymous namespace)",
			       strlen(scope ? scope : "(anonymous namespace)"));
		xt_namebuf_put(b, "::", 2);
	}
	free(scopes);
	xt_namebuf_put(b, name, strlen(name));
	return b->failed ? NULL : b->p;
}

static int is_cplusplus(Dwarf_Die *cu)
{
	int lang = dwarf_srclang(cu);
	return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
	       lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

/* inlined_name sets f's names to those of the function inlined as die (a concrete
 * DW_TAG_inlined_subroutine): its linkage name, or its plain name within its C++ scopes. */
static int inlined_name(xtrace_symbolizer *s, Dwarf_Die *die, Dwarf_Die *cu,
			struct xtrace_frame *f)
{
	Dwarf_Attribute attr;
	const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!link)
		link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (link) {
		f->symbol = link;
		return (f->function = readable(s, link)) ? 0 : -1;
	}
	/* The declaration: through the abstract instance to the declaration in its class. */
	Dwarf_Die decl = *die, next;
	for (int i = 0; i < 8; i++) {
		if (!dwarf_attr(&decl, DW_AT_abstract_origin, &attr) &&
		    !dwarf_attr(&decl, DW_AT_specification, &attr))
			break;
		if (!dwarf_formref_die(&attr, &next))
			break;
		decl = next;
	}
	f->symbol = dwarf_diename(&decl);
	if (!f->symbol || !is_cplusplus(cu)) {
		f->function = f->symbol;
		return 0;
	}
	const struct xt_symkey *k = key_find(s, (uintptr_t)decl.addr, XT_KEY_DIE);
	if (k) {
		f->function = k->val;
		return 0;
	}
	const char *q = qualified_name(s, &decl, f->symbol);
	char *keep = q ? arena_strdup(s, q) : NULL;
	if (!keep || key_put(s, (uintptr_t)decl.addr, XT_KEY_DIE, keep, 0) < 0)
		return -1;
	f->function = keep;
	return 0;
}

/* The DIEs one walk may visit at most, so that no file, however made, holds a lookup up for
 * long: far more than a real compile unit has outside its functions' bodies. */
#define XT_MAX_DIE_VISITS (1L << 22)

/* One address range of a function defined in a compile unit. */
struct xt_fnrange {
	Dwarf_Addr lo, hi;
	Dwarf_Die die;
};

struct fn_index {
	struct xt_fnrange *r;
	size_t n, cap;
	long visits;
	int failed;
};

/* index_functions adds the ranges of the functions defined under parent (in namespaces too,
 * where some compilers define them) to x. */
static void index_functions(Dwarf_Die *parent, struct fn_index *x, int depth)
{
	Dwarf_Die c;
	if (depth > XT_MAX_INLINE || dwarf_child(parent, &c) != 0)
		return;
	do {
		if (++x->visits > XT_MAX_DIE_VISITS)
			return;
		int tag = dwarf_tag(&c);
		if (tag == DW_TAG_namespace) {
			index_functions(&c, x, depth + 1);
			continue;
		}
		if (tag != DW_TAG_subprogram)
			continue;
		Dwarf_Addr base, lo, hi;
		for (ptrdiff_t off = 0; (off = dwarf_ranges(&c, off, &base, &lo, &hi)) > 0;) {
			if (x->n == x->cap) {
				size_t cap = x->cap ? 2 * x->cap : 256;
				struct xt_fnrange *r = realloc(x->r, cap * sizeof *r);
				if (!r) {
					x->failed = 1;
					return;
				}
				x->r = r;
				x->cap = cap;
			}
			x->r[x->n++] = (struct xt_fnrange){lo, hi, c};
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int fnrange_order(const void *x, const void *y)
{
	const struct xt_fnrange *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* function_at finds the function defined in compile unit cu whose code holds a (relative to
 * the DWARF), indexing the unit's functions by address the first time: 1 found, 0 not, -1
 * without memory. */
static int function_at(xtrace_symbolizer *s, Dwarf_Die *cu, Dwarf_Addr a, Dwarf_Die *fn)
{
	const struct xt_symkey *k = key_find(s, (uintptr_t)cu->addr, XT_KEY_CU);
	if (!k) {
		struct fn_index x = {0};
		index_functions(cu, &x, 0);
		struct xt_fnrange *r = x.n && !x.failed ? arena_alloc(s, x.n * sizeof *r) : NULL;
		if (r) {
			memcpy(r, x.r, x.n * sizeof *r);
			qsort(r, x.n, sizeof *r, fnrange_order);
		}
		free(x.r);
		if ((x.n && !r) || x.failed || key_put(s, (uintptr_t)cu->addr, XT_KEY_CU, r, x.n) < 0)
			return -1;
		k = key_find(s, (uintptr_t)cu->addr, XT_KEY_CU);
	}
	const struct xt_fnrange *r = k->val;
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= r[lo - 1].hi)
		return 0;
	*fn = r[lo - 1].die;
	return 1;
}

struct scope_walk {
	Dwarf_Addr a;                 /* relative to the DWARF */
	Dwarf_Die inl[XT_MAX_INLINE]; /* the inlined instances holding a, outermost first */
	int k;
	long visits;
};

/* find_scopes descends from parent through the scopes holding w->a, collecting the inlined
 * instances among them. */
static void find_scopes(Dwarf_Die *parent, struct scope_walk *w, int depth)
{
	Dwarf_Die c;
	/* Scopes nest a few levels deep in real code; a crafted file stops here. */
	if (depth > 2 * XT_MAX_INLINE || dwarf_child(parent, &c) != 0)
		return;
	do {
		if (++w->visits > XT_MAX_DIE_VISITS)
			return;
		int tag = dwarf_tag(&c);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block &&
		    tag != DW_TAG_try_block && tag != DW_TAG_catch_block)
			continue;
		if (dwarf_haspc(&c, w->a) != 1)
			continue;
		if (tag == DW_TAG_inlined_subroutine && w->k < XT_MAX_INLINE)
			w->inl[w->k++] = c;
		find_scopes(&c, w, depth + 1);
		return;
	} while (dwarf_siblingof(&c, &c) == 0);
}

/* inline_chain collects the inlined instances holding address a (relative to the CU's DWARF),
 * innermost first, into inl: their number, or -1 without memory. */
static int inline_chain(xtrace_symbolizer *s, Dwarf_Die *cu, Dwarf_Addr a,
			Dwarf_Die inl[XT_MAX_INLINE])
{
	struct scope_walk w = {.a = a};
	Dwarf_Die fn;
	int found = function_at(s, cu, a, &fn);
	if (found <= 0)
		return found;
	find_scopes(&fn, &w, 0);
	for (int i = 0; i < w.k; i++)
		inl[i] = w.inl[w.k - 1 - i];
	return w.k;
}

static int sym_order(const void *x, const void *y)
{
	const struct xt_sym *a = x, *b = y;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* read_symbols sorts sm's function symbols by address; at one address the sized one with the
 * strongest binding (global, weak, local) comes first, then the earliest in the table, as
 * libdwfl chooses. 0, or -1 without memory. */
static int read_symbols(struct xt_symmod *sm)
{
	sm->syms_read = 1;
	int n = dwfl_module_getsymtab(sm->mod);
	if (n <= 0)
		return 0;
	if (!(sm->syms = malloc((size_t)n * sizeof *sm->syms)))
		return -1;
	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(sm->mod, i, &sym, &addr, &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info), bind = GELF_ST_BIND(sym.st_info);
		if (!name || !*name || shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		uint32_t strength = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
		sm->syms[sm->nsyms++] = (struct xt_sym){addr, sym.st_size, name,
							(uint32_t)(!sym.st_size << 30 | strength << 28) + (uint32_t)i};
	}
	qsort(sm->syms, sm->nsyms, sizeof *sm->syms, sym_order);
	/* One name per address: the first. */
	size_t k = 0;
	for (size_t i = 0; i < sm->nsyms; i++)
		if (!k || sm->syms[i].lo != sm->syms[k - 1].lo)
			sm->syms[k++] = sm->syms[i];
	sm->nsyms = k;
	return 0;
}

/* symbol_at names the function holding address a: the closest symbol at or below a whose size
 * covers it, else one without a size right below a (an assembly label), else NULL. */
static const char *symbol_at(struct xt_symmod *sm, uint64_t a)
{
	if (!sm->syms_read && read_symbols(sm) < 0)
		return dwfl_module_addrname(sm->mod, a);
	size_t lo = 0, hi = sm->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sm->syms[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct xt_sym *near = &sm->syms[lo - 1];
	/* A symbol may sit inside a bigger one (a local label in a function): look a few back. */
	for (size_t i = lo, seen = 0; i-- > 0 && seen < 16; seen++)
		if (sm->syms[i].size && a - sm->syms[i].lo < sm->syms[i].size)
			return sm->syms[i].name;
	return near->size ? NULL : near->name;
}

/* chain_of symbolizes pc in sm into frames in the arena: *n of them, or NULL without memory. */
static struct xtrace_frame *chain_of(xtrace_symbolizer *s, struct xt_symmod *sm,
				     const struct xtrace_frame *plain, size_t *n)
{
	Dwarf_Die inl[XT_MAX_INLINE];
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias = 0;
	/* pc is a return address: pc - 1 is inside the call instruction, on the caller's line. */
	Dwarf_Addr a = plain->pc - 1;
	int k = 0;
	if (sm && sm->mod && (cu = dwfl_module_addrdie(sm->mod, a, &bias)))
		k = inline_chain(s, cu, a - bias, inl);
	if (k < 0)
		return NULL;
	struct xtrace_frame *f = arena_alloc(s, (size_t)(k + 1) * sizeof *f);
	if (!f)
		return NULL;
	for (int j = 0; j <= k; j++) {
		f[j] = *plain;
		f[j].inlined = j < k;
	}
	*n = (size_t)k + 1;
	if (!sm || !sm->mod)
		return f;
	f[k].symbol = symbol_at(sm, a);
	if (f[k].symbol && !(f[k].function = readable(s, f[k].symbol)))
		return NULL;
	Dwfl_Line *line = dwfl_module_getsrc(sm->mod, a);
	if (line) {
		int lineno = 0;
		f[0].file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		f[0].line = lineno;
	}
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	if (k && dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
		files = NULL;
	for (int j = 0; j < k; j++) {
		if (inlined_name(s, &inl[j], cu, &f[j]) < 0)
			return NULL;
		/* The next frame out is at the line that made this call. */
		Dwarf_Attribute attr;
		Dwarf_Word file = 0, lineno = 0;
		if (files && dwarf_formudata(dwarf_attr(&inl[j], DW_AT_call_file, &attr), &file) == 0 &&
		    file < nfiles)
			f[j + 1].file = dwarf_filesrc(files, file, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&inl[j], DW_AT_call_line, &attr), &lineno) == 0 &&
		    lineno <= INT32_MAX)
			f[j + 1].line = (int)lineno;
	}
	return f;
}

size_t xtrace_symbolize_inlined(xtrace_symbolizer *s, const xtrace_reader *r, uint64_t pc,
				const struct xtrace_frame **frames)
{
	struct xtrace_frame plain = {.pc = pc, .module_offset = pc};
	struct xt_symmod *sm = NULL;
	const struct xtrace_module *m = xtrace_module_of(r, pc);
	if (m) {
		plain.module_offset = pc - m->base;
		if (!(sm = xt_find_module(s, m)))
			return 0;
		plain.module = sm->path;
	}
	uint64_t obj = sm ? (uint64_t)(sm - s->m) + 1 : 0;
	uint64_t b = pc || obj ? obj : XT_KEY_NOWHERE;
	const struct xt_symkey *k = key_find(s, pc, b);
	if (k) {
		*frames = k->val;
		return k->n;
	}
	size_t n;
	struct xtrace_frame *f = chain_of(s, sm, &plain, &n);
	if (!f || key_put(s, pc, b, f, n) < 0)
		return 0;
	*frames = f;
	return n;
}

void xtrace_symbolize(xtrace_symbolizer *s, const xtrace_reader *r, uint64_t pc,
		      struct xtrace_frame *out)
{
	const struct xtrace_frame *f;
	if (xtrace_symbolize_inlined(s, r, pc, &f)) {
		*out = f[0];
		return;
	}
	/* Without memory for the lookup: where pc is, not what. */
	memset(out, 0, sizeof *out);
	out->pc = pc;
	out->module_offset = pc;
	const struct xtrace_module *m = xtrace_module_of(r, pc);
	if (m) {
		out->module_offset = pc - m->base;
		out->module = m->path;
	}
}
