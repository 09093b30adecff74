# CoT on the running-sum task (6 digits, word vocab), ~1-3 minutes on a 2-core CPU:
# python data/running_sum/prepare.py && python train.py config/quickstart.py
# The loss sits on a plateau (~0.85: only the first sum, a copy, is learned) until the model finds how
# to add a digit to the previous sum; when it leaves it varies with the seed (300 to 1,200+ steps). A
# 1,500-step cosine left one seed in three on the plateau, so the schedule is long (3,000) and the run
# stops at the first eval that solves the valid split (README, "Quickstart across seeds").
out_dir = 'out-quickstart-cot'
dataset = 'running_sum'
method = 'cot'
n_layer = 4
n_head = 4
n_embd = 128
block_size = 64
batch_size = 64
learning_rate = 2e-3    # 1e-3 also gets there, but when varies more with the seed
min_lr = 2e-4
max_iters = 3000
lr_decay_iters = 3000
stop_at_val_acc = 1.0    # done once the 500 valid questions are all right
eval_examples = 500      # all of them: stopping at 200 of 200 once gave a CoT with 98.9% on test
warmup_iters = 50
eval_interval = 100
log_interval = 50
