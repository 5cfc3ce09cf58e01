#!/usr/bin/env bash
# scripts/sample-accuracy.sh: how close XTRACE_SAMPLE's estimates come, over many seeds. Runs
# the accuracy workload (tests/workloads/sampling.c: three sites at 60/30/10% of the bytes,
# 16 B..4 KiB, 2M allocations) once per seed, sampled at MEAN bytes, and prints each site's and
# the total's estimate error (`xtrace top --tsv`, by function) per seed, then the mean and
# largest absolute error and the standard deviation of the signed error over the seeds.
#
#   SAMPLE_MEAN=65536   XTRACE_SAMPLE
#   SAMPLE_SEEDS=20     seeds 1..SAMPLE_SEEDS
#
# Expects `make all` and build/workloads/sampling built (make build/workloads/sampling).
set -euo pipefail
cd "$(dirname "$0")/.."
MEAN=${SAMPLE_MEAN:-65536}
SEEDS=${SAMPLE_SEEDS:-20}
dir=$(mktemp -d "${TMPDIR:-/tmp}/sample-accuracy.XXXXXX")
trap 'rm -rf "$dir"' EXIT
for seed in $(seq 1 "$SEEDS"); do
	LD_PRELOAD=$PWD/lib/libxtrace.so XTRACE_OUT="$dir/$seed.xt" XTRACE_SAMPLE=$MEAN \
		XTRACE_SAMPLE_SEED=$seed build/workloads/sampling >"$dir/$seed.exact"
	bin/xtrace top "$dir/$seed.xt" --tsv --group function >"$dir/$seed.top"
	awk -v seed="$seed" -v OFS='\t' '
		FNR == NR { exact[$1] = $2; next }
		FNR > 1 { est[$8] = $3; total += $3 }
		END {
			printf "%s", seed
			n = split("site_sixty site_thirty site_ten", s, " ")
			for (i = 1; i <= n; i++)
				printf "\t%+.3f", 100 * (est[s[i]] - exact[s[i]]) / exact[s[i]]
			printf "\t%+.3f\n", 100 * (total - exact["total"]) / exact["total"]
		}' "$dir/$seed.exact" "$dir/$seed.top"
done | awk -v OFS='\t' -v mean="$MEAN" '
	BEGIN { print "seed", "sixty%", "thirty%", "ten%", "total%" }
	{ print; for (c = 2; c <= 5; c++) { sum[c] += $c < 0 ? -$c : $c; sq[c] += $c * $c; s[c] += $c
		if (($c < 0 ? -$c : $c) > max[c]) max[c] = $c < 0 ? -$c : $c } n++ }
	END {
		printf "mean |err|"; for (c = 2; c <= 5; c++) printf "\t%.3f", sum[c] / n; print ""
		printf "max |err|"; for (c = 2; c <= 5; c++) printf "\t%.3f", max[c]; print ""
		printf "sd"; for (c = 2; c <= 5; c++) printf "\t%.3f", sqrt(sq[c] / n - (s[c] / n) ^ 2); print ""
		printf "(percent error of the estimated bytes, XTRACE_SAMPLE=%s, %d seeds)\n", mean, n
	}'
