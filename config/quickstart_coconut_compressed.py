# Coconut that compresses, on the quickstart task: one thought per step ('d s \n', three tokens), so all
# six steps become six thoughts and the answer takes 10 positions instead of the CoT's 22. From the
# same stage 0 (quickstart_coconut0.py), with the scaled hidden-state thought (quickstart_coconut_scaled.py)
# and two more things, each measured necessary (README, "Coconut"):
#   coconut_keep_position  every token keeps its stage-0 position id, thought j sits where step j's newline
#                          was: with one thought per three tokens every later token would otherwise move
#                          two positions per stage, and a model trained from scratch reads by position
#                          (stage 1 started at valid loss 11 and every stage ended at chance)
#   uniform_prob = 0.3     the paper's stage mixing: without it stage 2, the first thought that must add,
#                          reached 42% in 400 steps (the last stage 88%); with it 99.8% (100%)
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_compressed.py
exec(open('config/quickstart_coconut_scaled.py').read())
out_dir = 'out-quickstart-coconut-compressed'
c_thought = 1
coconut_keep_position = True
uniform_prob = 0.3
learning_rate = 3e-4     # 1e-4 left stage 2 at 9% in 100 steps; 1e-3 broke at stage 5
epochs_per_stage = 0.128 # 400 iterations at batch 64 over 200k examples (200 was not enough on every run)
max_iters = 4400         # stages 1-6, then the last stage (7: the same layout) until valid is solved
decay_lr = True          # cosine to min_lr over the run: at a constant 3e-4 the last stage's valid accuracy
warmup_iters = 0         # wandered between 88 and 97% on one seed of two, with the decay it ends at 99.8-100%
lr_decay_iters = 4400
min_lr = 3e-5
eval_interval = 200
