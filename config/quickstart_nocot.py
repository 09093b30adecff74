# The quickstart without the steps: the model must add six digits mod 10 in one go. It stays near
# chance (10%) for 1,000 steps, more than the CoT of the quickstart (quickstart_coconut0.py) needed on
# nine of ten fresh-clone runs (300-900; 1,100 on one). 1,500 steps, the earlier budget, gave the same
# on those ten (9.6-11.3%; 8.1-12.3% at 1,000): it is not a matter of steps.
# python train.py config/quickstart_nocot.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-nocot'
method = 'nocot'
max_iters = 1000
lr_decay_iters = 1000
eval_interval = 250
