/* specs.h: a generation's Specs batches, and what each event type and experiment of the
 * generation decodes by (specs.c). A step of gathering a generation (generation.c). */
#ifndef XT_READER_SPECS_H
#define XT_READER_SPECS_H

#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_specs_reset forgets what the previous generation described. */
void xt_rd_specs_reset(struct xt_gen *g);
/* xt_rd_parse_specs takes in one Specs batch: 0, or -1 with the error set (any rule of
 * experiments/README.md "Specs batch" broken: corrupt, with the offset of the entry at fault). */
int xt_rd_parse_specs(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b);
/* xt_rd_resolve_specs, once every batch of g is gathered, matches each described experiment
 * against the built-in table and fills g->spec, g->fast, g->exp and g->builtin. */
void xt_rd_resolve_specs(struct xt_gen *g);
#pragma GCC visibility pop

#endif
