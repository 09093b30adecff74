#!/usr/bin/env bash
# The lesson the rest of the project builds on, on a laptop CPU: the same small GPT learns to sum six
# digits mod 10 when it writes the running sums (CoT), and does not when it must answer at once
# (No-CoT). Then Coconut asks whether the sums can live in continuous thoughts instead of words. From
# its stage 0 (the CoT inside an empty <bot> <eot> block), two runs replace all five written sums by
# ten thoughts: the paper's (the last hidden state fed back, one step more per stage) and the soft
# thought (softmax(h E^T) @ E, all at once). coconut.py has both; README, "Coconut", says why only one
# learns. The swap column is the accuracy when each question gets another question's thoughts.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
[ -f data/running_sum/test.json ] || python data/running_sum/prepare.py
for m in cot nocot coconut0 coconut coconut_soft; do
  cfg=config/quickstart.py
  [ $m != cot ] && cfg=config/quickstart_$m.py
  out=out-quickstart-${m//_/-}
  echo "=== training $m ($cfg)"
  python train.py $cfg
  probes=""; [[ $m == coconut* && $m != coconut0 ]] && probes="--thought_probes=True"
  python sample.py --out_dir=$out --eval=test $probes | tail -n 1 > $out/test.json
done
python - "$start" <<'PY'
import json, sys, time
print(f"\nrunning sum of 6 digits mod 10, test split, greedy decoding ({time.time() - int(sys.argv[1]):.0f} s in all)")
print(f"{'method':37s} {'accuracy':>9s} {'# tokens':>9s} {'swap':>7s}")
rows = [('cot', 'CoT'), ('nocot', 'No-CoT'), ('coconut0', 'Coconut stage 0 (CoT in <bot> <eot>)'),
        ('coconut', 'Coconut, hidden-state thoughts'), ('coconut-soft', 'Coconut, soft thoughts')]
for m, name in rows:
    r = json.load(open(f'out-quickstart-{m}/test.json'))
    swap = f"{100 * r['swap']:6.1f}%" if 'swap' in r else ''
    print(f"{name:37s} {100 * r['accuracy']:8.1f}% {r['tokens_per_question']:9.1f} {swap:>7s}")
PY
