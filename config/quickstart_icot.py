# iCoT on the running sum (CPU), from the quickstart's CoT checkpoint: the CoT's 18 tokens (6 steps
# 'd s \n') removed from the front, one every 100 iterations, then No-CoT's layout to the end.
# python train.py config/quickstart.py && python train.py config/quickstart_icot.py
# keep_position: the kept tokens keep their CoT position ids. Without it, removing the first token took
# the CoT model from 99.5% to 1.5% valid (it reads by position), and it never recovered (README, "iCoT").
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-icot'
method = 'icot'
init_from = 'out-quickstart-cot'
icot_keep_position = True
icot_remove_per_epoch = 31.25  # 200,000 examples / 64 = 3,125 steps an epoch: one more token every 100 steps
icot_smoothing = 4.0     # the paper's lambda
learning_rate = 5e-4
decay_lr = False         # constant, with AdamW reset at every removal (reset_optimizer)
max_iters = 2400         # the CoT is gone from iteration 1,800 on
eval_interval = 100
