# Coconut on the quickstart task, as the paper trains it: from its stage 0 (quickstart_coconut0.py), each
# stage replaces one more step ('d s \n') by c = 3 continuous thoughts (the last hidden
# state fed back), until all six are thoughts; AdamW reset at each stage, lr 1e-4 (the official
# GPT-2 value). It does not learn here: README, "Coconut", has the probes that say why.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut.py
exec(open('config/quickstart_coconut0.py').read())
out_dir = 'out-quickstart-coconut'
init_from = 'out-quickstart-coconut0'
start_stage = 1
epochs_per_stage = 0.032 # 100 iterations at batch 64 over 200k examples
max_iters = 600          # stages 1-6
decay_lr = False
learning_rate = 1e-4
eval_interval = 500      # the start, step 500 and the end; each stage is also scored when it ends
log_interval = 50
