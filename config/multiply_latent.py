# Latent-SFT stage 2 on 3 x 3 multiplication (CPU), from the stage-1 model and its soft labels.
# python train.py config/multiply_latent_stage1.py && python train.py config/multiply_latent.py
exec(open('config/multiply_latent_stage1.py').read())
out_dir = 'out-multiply-latent'
latent_stage = 2
init_from = 'out-multiply-latent-stage1'
max_iters = 600
lr_decay_iters = 600
