# Latent-SFT stage 1 on 3 x 3 multiplication (CPU), from the CoT checkpoint: the CoT (25 tokens: the
# partial products with their running sums) cut into segments of r = 4 tokens, 7 latents.
# python train.py config/multiply_cot.py && python train.py config/multiply_latent_stage1.py
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-latent-stage1'
method = 'latent'
latent_stage = 1
init_from = 'out-multiply-cot'
latent_r = 4
latent_topk = 10
latent_label_examples = 40000  # stage 2 reads 600 x 64 = 38,400
max_iters = 400
lr_decay_iters = 400
learning_rate = 1e-3
min_lr = 1e-4
eval_interval = 200
