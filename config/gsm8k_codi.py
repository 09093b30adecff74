# GSM8k-Aug, CODI, GPT-2 small on one GPU. Official (scripts/train_gpt2_gsm8k-aug.sh): 6 thoughts,
# projection width 768, alpha = beta = gamma = 1, 40 epochs, batch 128, cosine with 3% warmup, wd 0.1,
# clip 2.0, lr 3e-3 -- but on LoRA adapters (r 128, alpha 32). This codebase trains every weight, for
# which 3e-3 would wreck GPT-2: we use 1e-4, the rate of the other GPT-2 recipes. See README (CODI).
# python data/gsm8k/prepare.py && python train.py config/gsm8k_codi.py
exec(open('config/gsm8k_cot.py').read())
out_dir = 'out-gsm8k-codi'
method = 'codi'
init_from = 'gpt2'
codi_thoughts = 6
codi_prj_dim = 768
learning_rate = 1e-4
min_lr = 0.0
decay_lr = True
max_iters = 120520               # 40 epochs of 385,620 examples at 128 per step
warmup_iters = 3616              # 3%
lr_decay_iters = 120520
weight_decay = 0.1
grad_clip = 2.0
always_save_checkpoint = True
