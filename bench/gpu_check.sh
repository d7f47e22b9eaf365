#!/usr/bin/env bash
# The GPU-and-many-cores check of issue 19, in one short run (< 5 minutes on 16 cores and one NVIDIA GPU):
#   1. local encode on CUDA: ours (LocalEmbedder, fp32, batches of 512, through embed_items and the cache)
#      against plain sentence-transformers on the same GPU (fp32, batch 256), 20 000 generated texts;
#      aim: ours >= 0.9x its texts/s; also how far our vectors are from the CPU's (the cache serves every device);
#   2. the exact-kNN vs NN-descent crossover on this machine's cores (the rule in core/projection.py quotes the
#      2-core table; this prints the one for these cores);
#   3. UMAP default (no seed: every core) against plain parallel umap-learn, each in a fresh process, on the
#      local model's vectors of 20 000 generated texts, with trustworthiness; aim: ours >= 0.9x (time <= 1.1x).
#
#   bench/gpu_check.sh                  from the repository root, in an environment where `pip install -e .`
#                                       was run with a CUDA build of torch (installing that is the caller's
#                                       business: nothing here downloads anything)
#
# It needs nothing but the repository and that environment: texts are generated, the model is the bundled
# all-MiniLM-L6-v2. Without CUDA the encode row is skipped with a message and the rest runs on the CPU cores.
# PYTHON=/path/to/python overrides the interpreter; GPU_CHECK_TEXTS=N the number of texts.
set -uo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"
texts="${GPU_CHECK_TEXTS:-20000}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export WORKBENCH_HOME="${WORKBENCH_HOME:-$(mktemp -d)}"
start=$(date +%s)

echo "=== machine: $(nproc) cores; $("$python" -c 'import torch; print("torch", torch.__version__, "| CUDA:",
    torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")' 2>&1 | tail -1)"

step() {  # step LIMIT_SECONDS COMMAND...: run one bench, never let it take the whole budget
    local limit=$1; shift
    echo; echo "=== $* (at $(( $(date +%s) - start )) s)"
    timeout "$limit" "$@" 2>&1 | grep -v -e "propagateSizeHints" -e "^Loading weights" \
        || echo "    (failed or timed out after ${limit} s)"
}

step 80 "$python" bench/encode.py --device cuda --texts "$texts"
step 100 "$python" bench/knn_crossover.py --sizes 5000,20000,50000
step 170 "$python" bench/projection.py --from-texts --sizes "$texts"
echo; echo "=== done in $(( $(date +%s) - start )) s"
