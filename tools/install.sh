#!/usr/bin/env bash
# Install MMFuseNAS with its tested stack into the current Python environment.
# Idempotent: packages already at the right version are kept, and mmcv (the
# slow part: ~19 min from source on 2 cores) is only built when mmcv 2.1.0
# with compiled ops is missing, its ops do not import or do not match torch
# (CPU / CUDA).
#
# Environment variables:
#   PYTHON         interpreter to install into (default: python, else python3)
#   TORCH_SPEC     torch requirement installed when torch is missing
#                  (default: torch==2.13.0; any 2.6-2.13 build works)
#   TORCH_INDEX_URL  package index torch is installed from (pip's
#                  --index-url; default: pip's own configuration, where
#                  PyPI's Linux torch wheels are CUDA builds). The CPU build:
#                  TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
#   MMCV_WHEELS    folder searched for a prebuilt mmcv wheel (default:
#                  ../shared/wheels when it exists, torch is a CPU build and
#                  the installed mmcv is not a "broken" one, see step 2)
#   MAX_JOBS       parallel compile jobs for the mmcv build (default: nproc)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${PYTHON:-$(command -v python || command -v python3)}
PIP=("$PY" -m pip)

# 1. torch first: an unpinned torch requirement would pull a CUDA build.
if ! "$PY" -c 'import torch' 2>/dev/null; then
    index=()
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
        index=(--index-url "$TORCH_INDEX_URL")
    fi
    "${PIP[@]}" install "${index[@]}" "${TORCH_SPEC:-torch==2.13.0}"
fi

# 2. mmcv 2.1.0 *full* (compiled ops), built against the torch present: its
#    ops must be CUDA ops for a CUDA torch and CPU ops for a CPU torch. An mmcv
#    of the other kind (e.g. a CPU wheel kept in pip's cache after torch was
#    switched to a CUDA build) is removed and built again without the cache,
#    and so is an mmcv 2.1.0 whose ops do not import ("broken": built for
#    another torch), from source unless MMCV_WHEELS is set.
state=$("$PY" -c '
import torch
kind = "cuda" if torch.version.cuda else "cpu"
try:
    import mmcv
except ImportError:
    print("missing", kind)
else:
    try:
        from mmcv.ops import get_compiling_cuda_version
        ops = "cpu" if get_compiling_cuda_version() == "not available" else "cuda"
    except Exception:
        ops = None
    print("missing" if mmcv.__version__ != "2.1.0" else "broken" if ops is None
          else "ok" if ops == kind else "mismatch", kind)' 2>/dev/null || true)
read -r mmcv_state torch_kind <<< "${state:-missing cpu}"
if [ "$mmcv_state" = ok ]; then
    echo "mmcv 2.1.0 with compiled ops ($torch_kind) is already installed"
else
    build=(--no-build-isolation)
    if [ "$mmcv_state" = mismatch ]; then
        echo "mmcv's compiled ops do not match torch ($torch_kind): rebuilding"
    elif [ "$mmcv_state" = broken ]; then
        echo "mmcv 2.1.0 is installed but mmcv.ops does not import: rebuilding"
    fi
    if [ "$mmcv_state" != missing ]; then
        "${PIP[@]}" uninstall -y mmcv
        build+=(--no-cache-dir)
    fi
    # the shared wheels are CPU builds for one torch: a CUDA torch (or a
    # broken mmcv) builds from source unless MMCV_WHEELS names a folder
    wheels=${MMCV_WHEELS:-}
    if [ -z "$wheels" ] && [ "$torch_kind" = cpu ] && [ "$mmcv_state" != broken ]; then
        wheels=../shared/wheels
    fi
    if [ -n "$wheels" ] && [ -d "$wheels" ]; then
        build+=(--find-links "$wheels")
    fi
    # mmcv 2.1.0's setup.py needs setuptools < 70, torch >= 77.0.3 (and
    # mmengine's pkg_resources < 81): the old one only while mmcv is built
    # from source, the new one back after it
    py_tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    prebuilt=$(ls "${wheels:-/nonexistent}"/mmcv-2.1.0-"$py_tag"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$prebuilt" ] || [ "$mmcv_state" != missing ]; then
        "${PIP[@]}" install "setuptools<70" wheel
    fi
    FORCE_CUDA=$([ "$torch_kind" = cuda ] && echo 1 || echo 0) \
        MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "${PIP[@]}" install "${build[@]}" mmcv==2.1.0
    if [ -z "$prebuilt" ] || [ "$mmcv_state" != missing ]; then
        "${PIP[@]}" install "setuptools>=77.0.3,<81"  # as requirements/runtime.txt
    fi
fi

# 3. the rest of the stack, the test tools and MMFuseNAS itself (editable).
"${PIP[@]}" install -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" install --no-deps --no-build-isolation -e .
# 4. mmcv's compiled ops must load (importing mmfusenas checks only versions)
if ! "$PY" -c 'import mmcv.ops'; then
    echo "error: 'import mmcv.ops' fails (see above): mmcv 2.1.0's compiled" \
        "ops do not load with this torch. Run tools/install.sh again: it" \
        "uninstalls that mmcv and builds it without pip's cache (from" \
        "source unless MMCV_WHEELS names a wheel built for this torch)." >&2
    exit 1
fi
"$PY" -c 'import mmfusenas; print("mmfusenas", mmfusenas.__version__, "ready")'
