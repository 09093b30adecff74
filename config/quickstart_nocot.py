# The quickstart without the steps: the model must add six digits mod 10 in one go. It stays near
# chance (10%) for 1,500 steps, more than CoT needs on most seeds. python train.py config/quickstart_nocot.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-nocot'
method = 'nocot'
max_iters = 1500
lr_decay_iters = 1500
eval_interval = 250
