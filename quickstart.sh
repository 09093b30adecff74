#!/usr/bin/env bash
# The lesson the rest of the project builds on, on a laptop CPU: the same small GPT learns to sum six
# digits mod 10 when it writes its steps (CoT: each step the digit it adds and the new sum), and does
# not when it must answer at once (No-CoT). Then Coconut asks whether the steps can live in continuous
# thoughts instead of words. The CoT is written inside Coconut's thought block (<bot> steps <eot>: the
# curriculum's stage 0); from it, three runs replace all eighteen step tokens by eighteen thoughts: the
# paper's (the last hidden state fed back, one step more per stage), the same thought scaled to a token
# embedding's length (h * s, the same curriculum) and the soft thought (softmax(h E^T) @ E, all at once).
# coconut.py has all three; README, "Coconut", says why the first does not learn and the others do.
# None compresses the chain (a thought per step token); the last run does: Latent-SFT (latent_sft.py)
# learns from the same stage-0 model to write one soft latent per three CoT tokens, then to answer.
# Probes on the test split: "zero" = accuracy with the thoughts removed (the model may then write the
# steps itself), "swap" = accuracy when each question gets another question's thoughts (chance: the
# answer is read from the thoughts), "sums" = share of the running sums that some thought decodes to
# through the LM head.
# bash quickstart.sh [seed]    (default 1337; every run of the quickstart trains with that seed)
set -euo pipefail
cd "$(dirname "$0")"
seed=${1:-1337}
start=$(date +%s)
[ -f data/running_sum/test.json ] || python data/running_sum/prepare.py
for m in coconut0 nocot coconut coconut_scaled coconut_soft latent_stage1 latent; do
  cfg=config/quickstart_$m.py
  out=out-quickstart-${m//_/-}
  mkdir -p $out
  echo "=== training $m ($cfg, seed $seed)"
  t0=$(date +%s)
  python train.py $cfg --seed=$seed | tee $out/train.log
  if [[ $m != latent_stage1 ]]; then  # stage 1 makes the latents; stage 2's model is the one that decodes
    probes=""; [[ ($m == coconut* && $m != coconut0) || $m == latent ]] && probes="--thought_probes=True"
    python sample.py --out_dir=$out --eval=test $probes | tail -n 1 > $out/test.json
  fi
  echo "=== $m: $(( $(date +%s) - t0 )) s"  # training, and scoring where there is a test run
done
python - "$start" "$seed" <<'PY'
import json, re, sys, time
print(f"\nrunning sum of 6 digits mod 10, test split (1,000 questions), greedy decoding, seed {sys.argv[2]}, "
      f"{time.time() - int(sys.argv[1]):.0f} s in all")
print(f"{'method':37s} {'accuracy':>9s} {'# tokens':>9s} {'zero':>7s} {'swap':>7s} {'sums':>7s}")
rows = [('coconut0', 'CoT (<bot> steps <eot>: stage 0)'), ('nocot', 'No-CoT'),
        ('coconut', 'Coconut, hidden-state thoughts'), ('coconut-scaled', 'Coconut, hidden state scaled'),
        ('coconut-soft', 'Coconut, soft thoughts'),
        ('latent', 'Latent-SFT, a latent per 3 tokens')]
pct = lambda x: f"{100 * x:6.1f}%"
for m, name in rows:
    r = json.load(open(f'out-quickstart-{m}/test.json'))
    probes = ['', '', '']
    if 'swap' in r:  # sums: for each running sum, the best thought's match rate, averaged over the sums
        best = [max(row[i] for row in r['step_match']) for i in range(len(r['step_match'][0]))]
        probes = [pct(r['zero_thoughts']), pct(r['swap']), pct(sum(best) / len(best))]
    print(f"{name:37s} {pct(r['accuracy']):>9s} {r['tokens_per_question']:9.1f} " + ' '.join(f"{p:>7s}" for p in probes))
for m, name in [('coconut', 'hidden-state'), ('coconut-scaled', 'scaled')]:
    log = open(f'out-quickstart-{m}/train.log').read()
    stages = re.findall(r'^end of stage (\d+) .*val_acc ([\d.]+)', log, re.M)
    stages += re.findall(r'^eval iter \d+ \(stage (\d+)\).*val_acc ([\d.]+)', log, re.M)[-1:]  # the last stage
    print(f"{name} curriculum, valid accuracy at the end of each stage: "
          + ', '.join(f"stage {k} {100 * float(a):.0f}%" for k, a in stages))
PY
