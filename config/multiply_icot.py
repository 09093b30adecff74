# iCoT on 3 x 3 multiplication (CPU), from the CoT checkpoint: the CoT's 25 tokens (3 partial products,
# the running sum, their newlines) removed from the front, one every 20 iterations, then No-CoT's layout.
# python train.py config/multiply_cot.py && python train.py config/multiply_icot.py
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-icot'
method = 'icot'
init_from = 'out-multiply-cot'
icot_remove_per_epoch = 156.25  # 200,000 examples / 64 = 3,125 steps an epoch: one more token every 20 steps
icot_smoothing = 4.0     # the paper's lambda
learning_rate = 5e-4
decay_lr = False         # constant, with AdamW reset at every removal (reset_optimizer)
max_iters = 800          # the CoT is gone from iteration 500 on
eval_interval = 100
