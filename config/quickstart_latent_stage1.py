# Latent-SFT stage 1 on the quickstart task: from the CoT checkpoint, one model learns to compress each
# segment of r = 3 CoT tokens (one step: the digit, the sum, the newline) into a latent, and to read the answer
# back from the latents. At the end it writes the soft labels of 50k train examples for stage 2.
# python train.py config/quickstart.py && python train.py config/quickstart_latent_stage1.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-latent-stage1'
method = 'latent'
latent_stage = 1
init_from = 'out-quickstart-cot'
latent_r = 3
latent_topk = 10
latent_label_examples = 50000
max_iters = 300
lr_decay_iters = 300
learning_rate = 1e-3
min_lr = 1e-4
eval_interval = 100
stop_at_val_acc = 0.0    # train every step: the eval at step 0 would otherwise stop a run whose CoT start
                         # already reads the answer through untrained latents, and write labels from them
eval_examples = 200
log_interval = 20
