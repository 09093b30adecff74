# iCoT on the running sum (CPU), from the quickstart's CoT checkpoint: the CoT's 18 tokens (6 steps
# 'd s \n') removed from the front, one every 25 iterations, then No-CoT's layout to the end.
# python train.py config/quickstart.py && python train.py config/quickstart_icot.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-icot'
method = 'icot'
init_from = 'out-quickstart-cot'
icot_remove_per_epoch = 125.0  # 200,000 examples / 64 = 3,125 steps an epoch: one more token every 25 steps
icot_smoothing = 4.0     # the paper's lambda
learning_rate = 5e-4
decay_lr = False         # constant, with AdamW reset at every removal (reset_optimizer)
max_iters = 700          # the CoT is gone from iteration 450 on
eval_interval = 50
