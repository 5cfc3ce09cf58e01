/* alloctypes.h: AllocFree's type table, cold side. */
#ifndef XT_ALLOCTYPES_H
#define XT_ALLOCTYPES_H

#include <stdbool.h>

#include "shim.h"

XT_HIDDEN bool xt_alloctypes_init(void);

#endif
