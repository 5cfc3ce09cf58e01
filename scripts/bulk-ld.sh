#!/bin/sh
# bulk-ld.sh OBJECT...: a linker script that moves the shim's zero-initialised arrays of a page or
# more (.bss.* input sections from -fdata-sections) out of .bss into .bss.bulk after it. A process
# touches a few bytes of most of them, and each touched page is a fault (a copy in a fork child):
# among them the small state of every file would lie in as many pages; gathered, it fits in a few.
set -e
echo 'SECTIONS'
echo '{'
# the small state's span, which start-up makes writable at once (shim/lifecycle.c)
echo '  HIDDEN(xt_small_state_start = ADDR(.bss));'
echo '  HIDDEN(xt_small_state_end = ADDR(.bss) + SIZEOF(.bss));'
echo '  .bss.bulk (NOLOAD) :'
echo '  {'
for o in "$@"; do
	readelf -SW "$o" | sed 's/^ *\[ *[0-9]*\] *//' |
		awk -v o="$(basename "$o")" '
			# the size in hex, by hand: strtonum is gawk only, and Debian installs mawk
			function hex(s,  i, n) {
				n = 0
				for (i = 1; i <= length(s); i++)
					n = n * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
				return n
			}
			$1 ~ /^\.bss\./ && $2 == "NOBITS" && hex($5) >= 4096 { printf "    */%s(%s)\n", o, $1 }'
done
echo '  }'
echo '}'
echo 'INSERT AFTER .bss;'
