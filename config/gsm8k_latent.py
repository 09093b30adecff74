# GSM8k-Aug, Latent-SFT stage 2, GPT-2 small on one GPU, from stage 1 and its soft labels.
# Official (script/run_distill_stage2_soft_embedding.sh, LLaMA-3.2-1B, LoRA rank 64): ce_w = kl_w = 1,
# lr 3e-4, 50 epochs, cosine with 5% warmup, wd 0.01, effective batch 512. We train every weight of GPT-2,
# for which 3e-4 is the LoRA rate, not ours: 1e-4 as the other GPT-2 recipes; batch 128.
# python train.py config/gsm8k_latent_stage1.py && python train.py config/gsm8k_latent.py
exec(open('config/gsm8k_latent_stage1.py').read())
out_dir = 'out-gsm8k-latent'
latent_stage = 2
init_from = 'out-gsm8k-latent-stage1'
latent_kl_weight = 1.0
latent_ce_weight = 1.0
latent_budget = 32               # GSM8k-Aug valid/test CoTs: 27 GPT-2 tokens on average, at most 89 (23 latents at r = 4)
max_iters = 150630               # 50 epochs
warmup_iters = 7532              # 5%
lr_decay_iters = 150630
