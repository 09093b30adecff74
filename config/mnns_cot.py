# CoT on MNNS, CoT2's search task (data/mnns/prepare.py, m = 4 digits 1-9): write the partial sums of
# the first optimal sign vector, then the minimum. CoT2's model shape (GPT-2 of 2 layers, 2 heads,
# width 32, from scratch); batch 128 and a constant lr 1e-3 (the official runs: batch 16, lr 1e-4,
# 1,000 epochs, far longer than a CPU run). python data/mnns/prepare.py && python train.py config/mnns_cot.py
out_dir = 'out-mnns-cot'
dataset = 'mnns'
method = 'cot'
n_layer = 2
n_head = 2
n_embd = 32              # CoT2's d; its argument: a continuous token holds about d states
block_size = 32
batch_size = 128
learning_rate = 1e-3
decay_lr = False
weight_decay = 0.01
max_iters = 6000
eval_interval = 500
log_interval = 100
eval_examples = 352      # the whole valid split
