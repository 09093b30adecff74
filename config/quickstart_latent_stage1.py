# Latent-SFT stage 1 on the quickstart task: from the quickstart's CoT (Coconut's stage 0: the steps after
# <bot>), one model learns to compress each segment of r = 3 CoT tokens ('s \n d': a sum, the newline, the
# next digit; the first segment is the first digit) into a latent, and to read the answer back from the
# latents. At the end it writes the soft labels of 50k train examples for stage 2.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_latent_stage1.py
# (from a plain CoT checkpoint, config/quickstart.py: init_from = 'out-quickstart-cot', latent_cot_bot = False)
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-latent-stage1'
method = 'latent'
latent_stage = 1
init_from = 'out-quickstart-coconut0'
latent_cot_bot = True    # that CoT wrote its steps after <bot>: the encoder reads them there too
latent_encoder = 'frozen' # a frozen copy of that CoT makes the latents: with one shared model the decoder's
                         # training overwrote the running sums at the slots in 3 of 4 runs (README, "Latent-SFT")
latent_r = 3
latent_first_segment = 1  # the first segment is the first digit alone, so every later latent follows a digit,
                         # where the CoT model predicts the new running sum (latent_sft.latent_segments)
latent_topk = 10
latent_label_examples = 50000
max_iters = 600
lr_decay_iters = 600
learning_rate = 1e-3
min_lr = 1e-4
eval_interval = 50
stop_at_val_acc = 1.0    # done once the answer read from the latents of the gold CoT is right on all 200
                         # valid questions (0% at step 0: the decoder reads the latents at stage-2 positions)
eval_examples = 200
log_interval = 20
