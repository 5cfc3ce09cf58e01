/* timers.h: the Timers experiment's batch layout and codes, shared by shim and reader.
 *
 * Experimental batch data for Timers begins with a subtype byte:
 *   XT_TIMERS_BATCH_TABLE: the timer table, repeated {uvarint id, u8 kind, uvarint clock,
 *   u8 notify, uvarint signo, uvarint handle, uvarint created_ts}: every timer that existed at
 *   some point of the generation, also those created in earlier generations. clock is a Linux
 *   clock ID (for an itimer: which, 0 real, 1 virtual, 2 prof); handle is what the program holds
 *   (the timer_t, the timerfd's descriptor, the itimer's which); created_ts is when the trace
 *   first saw it (ticks). */
#ifndef XT_TIMERS_H
#define XT_TIMERS_H

#define XT_TIMERS_BATCH_TABLE 0

/* X(ident, name): the recorded APIs, in wire order (the low byte of a call_value). close is
 * the close (or dup2/dup3 over) of a timerfd's last descriptor, recorded as its TimerDelete. */
#define XT_TIMER_APIS(X)                       \
	X(TIMER_CREATE, "timer_create")            \
	X(TIMER_SETTIME, "timer_settime")          \
	X(TIMER_GETTIME, "timer_gettime")          \
	X(TIMER_GETOVERRUN, "timer_getoverrun")    \
	X(TIMER_DELETE, "timer_delete")            \
	X(SETITIMER, "setitimer")                  \
	X(GETITIMER, "getitimer")                  \
	X(ALARM, "alarm")                          \
	X(TIMERFD_CREATE, "timerfd_create")        \
	X(TIMERFD_SETTIME, "timerfd_settime")      \
	X(TIMERFD_GETTIME, "timerfd_gettime")      \
	X(NANOSLEEP, "nanosleep")                  \
	X(CLOCK_NANOSLEEP, "clock_nanosleep")      \
	X(USLEEP, "usleep")                        \
	X(SLEEP, "sleep")                          \
	X(CLOSE, "close")

enum xt_timer_api {
#define XT_TAPI_ENUM(ident, name) XT_TAPI_##ident,
	XT_TIMER_APIS(XT_TAPI_ENUM)
#undef XT_TAPI_ENUM
	XT_TAPI_COUNT
};

/* call_value = api | flags << XT_TIMER_CALL_FLAGS_SHIFT; flags is the call's own flags
 * argument (TIMER_ABSTIME, TFD_TIMER_ABSTIME and TFD_TIMER_CANCEL_ON_SET are bits 0 and 1). */
#define XT_TIMER_CALL_FLAGS_SHIFT 8
#define XT_TIMER_CALL_API(call) ((unsigned)((call) & 0xff))
#define XT_TIMER_CALL_ABSTIME (1u << XT_TIMER_CALL_FLAGS_SHIFT)

/* X(ident, name): the kinds of timer (the kind byte of a table entry). */
#define XT_TIMER_KINDS(X) \
	X(POSIX, "posix")     \
	X(TIMERFD, "timerfd") \
	X(ITIMER, "itimer")

enum xt_timer_kind {
#define XT_TKIND_ENUM(ident, name) XT_TKIND_##ident,
	XT_TIMER_KINDS(XT_TKIND_ENUM)
#undef XT_TKIND_ENUM
	XT_TKIND_COUNT
};

/* X(ident, name): how a timer tells the program it expired (notify_value, the notify byte). */
#define XT_TIMER_NOTIFIES(X)    \
	X(SIGNAL, "signal")         \
	X(NONE, "none")             \
	X(THREAD, "thread")         \
	X(THREAD_ID, "thread_id")   \
	X(READ, "read")

enum xt_timer_notify {
#define XT_TNOTIFY_ENUM(ident, name) XT_TNOTIFY_##ident,
	XT_TIMER_NOTIFIES(XT_TNOTIFY_ENUM)
#undef XT_TNOTIFY_ENUM
	XT_TNOTIFY_COUNT
};

/* X(ident, name): how an expiration reached the program (TimerFire's via_value). */
#define XT_TIMER_VIAS(X)  \
	X(THREAD, "thread")   \
	X(SIGNAL, "signal")   \
	X(TIMERFD, "timerfd")

enum xt_timer_via {
#define XT_TVIA_ENUM(ident, name) XT_TVIA_##ident,
	XT_TIMER_VIAS(XT_TVIA_ENUM)
#undef XT_TVIA_ENUM
	XT_TVIA_COUNT
};

/* X(id, name): Linux clock IDs, for display. */
#define XT_TIMER_CLOCKS(X)        \
	X(0, "realtime")              \
	X(1, "monotonic")             \
	X(2, "process_cputime")       \
	X(3, "thread_cputime")        \
	X(4, "monotonic_raw")         \
	X(5, "realtime_coarse")       \
	X(6, "monotonic_coarse")      \
	X(7, "boottime")              \
	X(8, "realtime_alarm")        \
	X(9, "boottime_alarm")        \
	X(11, "tai")

/* X(which, name): the itimers, by which (an itimer's clock field). */
#define XT_ITIMERS(X) \
	X(0, "real")      \
	X(1, "virtual")   \
	X(2, "prof")

#endif
