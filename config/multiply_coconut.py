# Coconut on 3 x 3 multiplication, from the CoT checkpoint (CPU): 3 steps, one per stage, c = 2.
# python train.py config/multiply_cot.py && python train.py config/multiply_coconut.py
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-coconut'
method = 'coconut'
init_from = 'out-multiply-cot'
start_stage = 1
max_latent_stage = 3
c_thought = 2
epochs_per_stage = 0.064  # 200 iterations at batch 64 over 200k examples
max_iters = 800           # stages 1-3, then 200 iterations all-latent
decay_lr = False
learning_rate = 1e-3
