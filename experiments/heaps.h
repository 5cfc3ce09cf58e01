/* heaps.h: the Heaps experiment's batch layout, shared by shim and reader.
 *
 * Experimental batch data for Heaps begins with a subtype byte:
 *   XT_HEAPS_BATCH_TABLE: the heap table, repeated {uvarint id, uvarint len, len bytes}: every
 *   heap named so far, IDs from 1, names of 1..XT_HEAPS_NAME_MAX bytes. */
#ifndef XT_HEAPS_H
#define XT_HEAPS_H

#define XT_HEAPS_BATCH_TABLE 0
#define XT_HEAPS_NAME_MAX 128 /* a longer name is cut: names equal that far are one heap */
#define XT_HEAPS_MAX 256      /* heaps a process can name */

#endif
