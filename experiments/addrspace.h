/* addrspace.h: the AddrSpace experiment's batch layout, shared by shim and reader.
 *
 * Experimental batch data for AddrSpace begins with a subtype byte:
 *   XT_ADDRSPACE_BATCH_MEMORY: the memory table, repeated {uvarint time (ticks), uvarint
 *   resident_bytes, uvarint mapped_bytes}: the process's resident set and total mapped size
 *   (/proc/self/statm's resident and size), sampled once a generation. */
#ifndef XT_ADDRSPACE_H
#define XT_ADDRSPACE_H

#define XT_ADDRSPACE_BATCH_MEMORY 0

#endif
