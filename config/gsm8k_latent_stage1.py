# GSM8k-Aug, Latent-SFT stage 1, GPT-2 small on one GPU, from the CoT checkpoint (config/gsm8k_cot.py).
# Official (github.com/DJC-GO-SOLO/Latent-SFT, script/run_distill_stage1_soft_embedding_*.sh): LLaMA-3.2-1B,
# compression rate r = 4, top-10 latents, LoRA rank 64 on 8 GPUs, effective batch 2048, cosine with 5%
# warmup, wd 0.01, 10 epochs per phase, lr 5e-5 (encoder phase) then 1e-4 (encoder and decoder together).
# Here one GPT-2 is encoder and decoder (README, Latent-SFT), trains every weight, batch 128, and runs the
# joint phase only; lr 1e-4 is the official joint rate and that of the other GPT-2 recipes.
# python train.py config/gsm8k_cot.py && python train.py config/gsm8k_latent_stage1.py
exec(open('config/gsm8k_cot.py').read())
out_dir = 'out-gsm8k-latent-stage1'
method = 'latent'
latent_stage = 1
init_from = 'out-gsm8k-cot'
latent_r = 4
latent_topk = 10
latent_label_examples = 0        # all 385,620: stage 2 trains on every example
learning_rate = 1e-4
min_lr = 0.0
decay_lr = True
max_iters = 30126                # 10 epochs of 385,620 examples at 128 per step
warmup_iters = 1506              # 5%
lr_decay_iters = 30126
always_save_checkpoint = True    # the labels come from the last weights: keep the checkpoint that made them
