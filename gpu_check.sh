#!/usr/bin/env bash
# One prepared check for a machine with a GPU, under 8 minutes, everything written to one results file:
#   1. tests: the CUDA ones (tests/test_host_sync.py: a decode step captured in a CUDA graph, the
#      syncs of a whole generate counted) and the decoding tests, on the GPU machine
#   2. bench.py at GPT-2 small's shape in bf16: decoding tokens/s and MBU, training tokens/s and MFU
#      against the device's peak, and decoding against HF transformers' generate at batch 1 and 16,
#      eager and compiled (the HF rows only when transformers is installed)
#   3. a short from-scratch run on the GPU: the MNNS CoT recipe (config/mnns_cot.py, CoT2's search task,
#      6,000 steps of a 2-layer model), then its test accuracy
#     bash gpu_check.sh                   # writes gpu_check.txt in the current directory
#     DRY_RUN=1 bash gpu_check.sh         # CPU, tiny settings, about a minute (the test suite runs this)
# Run it from any directory: data and checkpoints go below the current one. Each stage has a time
# limit, so a stage that hangs still leaves the others' results in the file.
set -u
ROOT=$(cd "$(dirname "$0")" && pwd)
RESULTS=${RESULTS:-gpu_check.txt}
PY=${PYTHON:-python}

if [ "${DRY_RUN:-0}" = 1 ]; then
    TESTS="tests/test_host_sync.py"
    BENCH="--device=cpu --n_layer=1 --n_head=2 --n_embd=32 --vocab_size=64 --block_size=64 --prompt_len=8
           --new_tokens=8 --hf_tokens=4 --batch_size=2 --train_batch=2 --train_len=16 --repeats=1 --compile=False"
    TRAIN="--device=cpu --compile=False --n_layer=1 --n_head=2 --n_embd=32 --batch_size=8 --max_iters=10
           --lr_decay_iters=10 --warmup_iters=2 --eval_interval=10 --eval_iters=2 --eval_examples=8 --log_interval=5"
    DATA="--m=3 --hi=4"      # 64 questions instead of 6,561
    EVAL="--device=cpu --compile=False --eval_limit=16"
    T_TESTS=300; T_BENCH=300; T_DATA=300; T_TRAIN=300; T_SCORE=300  # generous: a shared CPU can be slow
else
    TESTS="tests/test_host_sync.py tests/test_special_tokens.py tests/test_sample.py tests/test_compile.py"
    BENCH="--device=cuda --n_layer=12 --n_head=12 --n_embd=768 --vocab_size=50304 --dtype=bfloat16
           --new_tokens=256 --train_len=1024 --train_batch=8"
    TRAIN="--device=cuda"  # compile off: a 30k-parameter model, not worth its compile time here
    DATA=""
    EVAL="--device=cuda"
    T_TESTS=80; T_BENCH=230; T_DATA=30; T_TRAIN=100; T_SCORE=30  # 470 s at most: under 8 minutes in all
fi

stage() {  # stage NAME LIMIT COMMAND...: run it with a time limit, its output and status into the file
    local name=$1 limit=$2 t0=$SECONDS status
    shift 2
    echo "== $name (limit ${limit}s): $*" | tee -a "$RESULTS"
    timeout "$limit" "$@" 2>&1 | grep -v -i warning | tee -a "$RESULTS"
    status=${PIPESTATUS[0]}
    echo "== $name: exit $status after $((SECONDS - t0)) s$([ "$status" = 124 ] && echo ', TIME LIMIT')" | tee -a "$RESULTS"
    echo | tee -a "$RESULTS"
}

{
    echo "gpu_check.sh $(date -u '+%Y-%m-%d %H:%M UTC')$([ "${DRY_RUN:-0}" = 1 ] && echo ', DRY RUN (CPU, tiny)')"
    echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    $PY -c "import torch; print('torch', torch.__version__, '|', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU', '|', torch.get_num_threads(), 'CPU threads')"
    $PY -c "import transformers; print('transformers', transformers.__version__)" 2>/dev/null || echo "transformers not installed: no HF rows"
    echo
} > "$RESULTS"

stage tests "$T_TESTS" $PY -m pytest -q -p no:cacheprovider --rootdir="$ROOT" $(for t in $TESTS; do echo "$ROOT/$t"; done)
stage bench "$T_BENCH" $PY "$ROOT/bench.py" $BENCH --parts=decoding,training,hf
stage data "$T_DATA" $PY "$ROOT/data/mnns/prepare.py" --out_dir=data/mnns $DATA
stage train "$T_TRAIN" $PY "$ROOT/train.py" "$ROOT/config/mnns_cot.py" --out_dir=out-gpu-check $TRAIN
stage score "$T_SCORE" $PY "$ROOT/sample.py" --out_dir=out-gpu-check --eval=test $EVAL
echo "results in $RESULTS"
