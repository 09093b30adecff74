# Coconut on the quickstart task: start from the CoT checkpoint (its stage 0 is done), then each stage
# replaces one more running sum by a continuous thought, until all five are thoughts.
# python train.py config/quickstart.py && python train.py config/quickstart_coconut.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-coconut'
method = 'coconut'
init_from = 'out-quickstart-cot'
start_stage = 1
max_latent_stage = 5     # the chains have 5 steps
c_thought = 1
epochs_per_stage = 0.096 # 300 iterations at batch 64 over 200k examples
max_iters = 1800         # stages 1-5, then 300 more iterations with every step latent
decay_lr = False
learning_rate = 1e-3
