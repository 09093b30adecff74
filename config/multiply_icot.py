# iCoT on 3 x 3 multiplication (CPU), from the CoT checkpoint: the CoT's 25 tokens (3 partial products,
# the running sum, their newlines) removed from the front, one every 100 iterations, then No-CoT's layout.
# python train.py config/multiply_cot.py && python train.py config/multiply_icot.py
# Not measured yet. keep_position and the 100 iterations per token are what the running sum needed
# (README, "iCoT": without keep_position the first removal broke the CoT; at 25 or 50 iterations per
# token the model fell to chance at the first sum it had to compute internally).
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-icot'
method = 'icot'
init_from = 'out-multiply-cot'
icot_keep_position = True
icot_remove_per_epoch = 31.25  # 200,000 examples / 64 = 3,125 steps an epoch: one more token every 100 steps
icot_smoothing = 4.0     # the paper's lambda
learning_rate = 5e-4
decay_lr = False         # constant, with AdamW reset at every removal (reset_optimizer)
max_iters = 3000         # the CoT is gone from iteration 2,500 on
eval_interval = 100
