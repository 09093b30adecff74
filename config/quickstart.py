# CoT on the running-sum task (6 digits, word vocab): ~100% on test after 1500 iterations, ~2-3 minutes
# on a 2-core CPU. python data/running_sum/prepare.py && python train.py config/quickstart.py
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
max_iters = 1500
lr_decay_iters = 1500
warmup_iters = 50
eval_interval = 250
log_interval = 50
