# Latent-SFT stage 2 on the quickstart task: from the stage-1 model, learn to write the stage-1 latents
# yourself (KL to their soft labels where each latent is predicted, the latents fed back as inputs) and to
# answer from them (cross-entropy on <eot> and the answer). Decoding: latents until the argmax is <eot>.
# python train.py config/quickstart_latent_stage1.py && python train.py config/quickstart_latent.py
# python sample.py --out_dir=out-quickstart-latent --eval=test
exec(open('config/quickstart_latent_stage1.py').read())
out_dir = 'out-quickstart-latent'
latent_stage = 2
init_from = 'out-quickstart-latent-stage1'  # its latent_labels.pt holds the soft labels
latent_kl_weight = 1.0
latent_ce_weight = 1.0
learning_rate = 2e-3     # as the CoT quickstart
min_lr = 2e-4
max_iters = 1500
stop_at_val_acc = 1.0    # done once greedy decoding (latents, then the answer) solves the 200 valid questions
lr_decay_iters = 1500
eval_interval = 250
