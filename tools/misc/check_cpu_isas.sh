#!/usr/bin/env bash
# Run the golden / parity tests (pytest -m golden) once per oneDNN CPU
# instruction set and print each run's summary line. Exits non-zero when a
# run fails. Extra arguments go to pytest (e.g. a test path or -k).
#
#   bash tools/misc/check_cpu_isas.sh [pytest args]
#
# ONEDNN_MAX_CPU_ISA caps the kernels oneDNN dispatches to (a CPU without
# the named ISA simply runs its best one); ISAS overrides the list.
set -u
cd "$(dirname "$0")/../.."
ISAS=${ISAS:-"SSE41 AVX2 AVX512_CORE"}
status=0
for isa in $ISAS; do
    log=$(mktemp)
    ONEDNN_MAX_CPU_ISA=$isa OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
        python -m pytest -m golden -q -p no:cacheprovider "$@" >"$log" 2>&1
    rc=$?
    [ $rc -ne 0 ] && status=1 && grep -E '^(FAILED|ERROR)' "$log"
    echo "ONEDNN_MAX_CPU_ISA=$isa: $(tail -n 1 "$log")"
    rm -f "$log"
done
exit $status
