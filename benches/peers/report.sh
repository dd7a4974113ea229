#!/usr/bin/env bash
# Turns the peer benchmark's raw rounds into a Markdown table and a chart (run.sh calls it).
#   report.sh RESULTS PREFIX "PROXIES" "SCENARIO IDS"
# RESULTS: one line per run, "scenario proxy round rps p50_ms p99_ms cpu_us rss_kb errors".
# Writes PREFIX.table.md (per scenario and proxy, the median of each figure over the rounds, and
# the CPU ratio to pylon) and PREFIX.png (gnuplot, if installed: CPU µs/request and requests/s
# per scenario, one bar per proxy).
set -euo pipefail
results=$1 prefix=$2 proxies=$3 ids=$4
. "$(dirname "$0")/scenario.sh"

# The median of column $3 for scenario $1 and proxy $2 (the lower middle for even counts).
median() {
  awk -v s="$1" -v p="$2" -v c="$3" '$1 == s && $2 == p { print $c }' "$results" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'
}
title_of() { # scenario id -> its title
  local line
  for line in "${SCENARIOS[@]}"; do
    [ "${line%%|*}" = "$1" ] && { split_line "$line" _ t _; echo "$t"; return; }
  done
}

: >"$prefix.dat"
{
  echo "| scenario | proxy | requests/s | p50 | p99 | CPU µs/request | × pylon | peak RSS | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for id in $ids; do
    base=$(median "$id" pylon 7)
    cpu_row="\"$id) $(title_of "$id")\"" rps_row=$cpu_row
    for p in $proxies; do
      rps=$(median "$id" "$p" 4) p50=$(median "$id" "$p" 5) p99=$(median "$id" "$p" 6)
      cpu=$(median "$id" "$p" 7) rss=$(median "$id" "$p" 8) errs=$(median "$id" "$p" 9)
      [ -n "$cpu" ] || continue
      awk -v id="$id" -v t="$(title_of "$id")" -v p="$p" -v rps="$rps" -v p50="$p50" -v p99="$p99" \
        -v cpu="$cpu" -v base="$base" -v rss="$rss" -v e="$errs" 'BEGIN {
        ratio = base > 0 ? sprintf("%.2fx", cpu / base) : "-"
        printf "| %s) %s | %s | %.0f | %.2f ms | %.2f ms | %.1f | %s | %.1f MiB | %d |\n",
          id, t, p, rps, p50, p99, cpu, ratio, rss / 1024, e }'
      cpu_row+=" $cpu" rps_row+=" $rps"
    done
    echo "$cpu_row" >>"$prefix.dat"
    echo "$rps_row" >>"$prefix.rps.dat"
  done
} >"$prefix.table.md"

# The chart: two clustered bar plots (CPU µs/request, requests/s), one cluster per scenario.
if command -v gnuplot >/dev/null 2>&1; then
  plots() { # $1 = data file
    local i=2 p out=""
    for p in $proxies; do
      out+="${out:+, }'$1' using $i:xtic(1) title '$p'"
      i=$((i + 1))
    done
    echo "$out"
  }
  gnuplot <<EOF
set terminal pngcairo size 1200,900 font "sans,10"
set output "$prefix.png"
set multiplot layout 2,1 title "pylon vs peers: MusicShare routing, 1 worker on 1 core (median of rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -12 font ",9"   # long scenario titles side by side
set bmargin 4
set logscale y   # the 1 MiB scenario is ~20x the others
set yrange [1:*]
set ylabel "CPU µs per request, log scale (lower is better)"
plot $(plots "$prefix.dat")
set ylabel "requests/s, log scale (higher is better)"
plot $(plots "$prefix.rps.dat")
unset multiplot
EOF
fi
rm -f "$prefix.dat" "$prefix.rps.dat"
