#!/usr/bin/env bash
# The lesson the rest of the project builds on, on a laptop CPU: the same small GPT learns to sum six
# digits mod 10 when it writes the running sums (CoT), and does not when it must answer at once
# (No-CoT). Then Coconut asks whether the sums can live in continuous thoughts instead of words:
# starting from the CoT model, each stage replaces one more written sum by a thought (coconut.py).
# The quickstart stops after stage 3 (3 of the 5 sums are thoughts); README, "Coconut", says what
# happens after.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
[ -f data/running_sum/test.json ] || python data/running_sum/prepare.py
for m in cot nocot coconut; do
  cfg=config/quickstart.py
  [ $m != cot ] && cfg=config/quickstart_$m.py
  extra=""; [ $m = coconut ] && extra="--epochs_per_stage=0.16 --max_iters=1500"  # stages 1-3, 500 iterations each
  echo "=== training $m ($cfg $extra)"
  python train.py $cfg $extra
  python sample.py --out_dir=out-quickstart-$m --eval=test | tail -n 1 > out-quickstart-$m/test.json
done
python - "$start" <<'PY'
import json, sys, time
print(f"\nrunning sum of 6 digits mod 10, test split, greedy decoding ({time.time() - int(sys.argv[1]):.0f} s in all)")
print(f"{'method':8s} {'accuracy':>9s} {'# tokens':>9s}")
for m in ['cot', 'nocot', 'coconut']:
    r = json.load(open(f'out-quickstart-{m}/test.json'))
    print(f"{m:8s} {100 * r['accuracy']:8.1f}% {r['tokens_per_question']:9.1f}")
PY
