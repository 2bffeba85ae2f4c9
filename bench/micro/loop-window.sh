#!/bin/bash
# Counts the instructions per message of bench/micro/loop-window.ts under callgrind, the
# loop alone (see its header). Run from the checkout's root:
#   bash bench/micro/loop-window.sh single|batch MESSAGES [MODULE]
# Prints the instructions counted and their quotient by MESSAGES; the callgrind file stays
# in a temporary directory (its path is printed) for callgrind_annotate.
set -euo pipefail
form=$1
messages=$2
dir=$(mktemp -d)
mkfifo "$dir/in"
: > "$dir/stdout"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
  node --single-threaded --import tsx bench/micro/loop-window.ts "$form" "$messages" ${3:+"$3"} \
  < "$dir/in" > "$dir/stdout" 2> "$dir/valgrind.log" &
pid=$!
exec 3> "$dir/in"
until grep -q ready "$dir/stdout"; do
  kill -0 $pid 2> /dev/null || { cat "$dir/valgrind.log" >&2; exit 1; }
  sleep 1
done
callgrind_control --instr=on $pid > /dev/null
echo go >&3
until grep -q done "$dir/stdout"; do sleep 1; done
callgrind_control --instr=off $pid > /dev/null
echo end >&3
exec 3>&-
wait $pid
total=$(grep -m1 '^totals:' "$dir/callgrind.out" | cut -d' ' -f2)
echo "$form $messages: $total instructions, $((total / messages)) per message ($dir/callgrind.out)"
