# CoT on 3 x 3 multiplication (iCoT format, word vocab), CPU, ~4 minutes. Greedy is mostly right while
# temperature-1 samples still make mistakes: the setting the sampling methods need.
# python data/multiply/prepare.py && python train.py config/multiply_cot.py
out_dir = 'out-multiply-cot'
dataset = 'multiply'
method = 'cot'
n_layer = 4
n_head = 4
n_embd = 128
block_size = 64
batch_size = 64
learning_rate = 2e-3
min_lr = 2e-4
max_iters = 1500
lr_decay_iters = 1500
warmup_iters = 50
eval_interval = 300
eval_examples = 100
log_interval = 100
