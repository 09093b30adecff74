# GSM8k-Aug (iCoT's augmented GSM8k), CoT, GPT-2 small on one GPU. Needs the internet once:
# python data/gsm8k/prepare.py && python train.py config/gsm8k_cot.py
# Official (args/gsm_cot.yaml): batch 32 x 4 GPUs = 128, lr 1e-4, wd 0.01, 25 epochs, best valid checkpoint.
out_dir = 'out-gsm8k-cot'
dataset = 'gsm8k'
method = 'cot'
init_from = 'gpt2'
block_size = 1024
batch_size = 32
gradient_accumulation_steps = 4  # effective batch 128
learning_rate = 1e-4
weight_decay = 0.01
decay_lr = False
max_iters = 75325                # 25 epochs of 385,620 examples at 128 per step
eval_interval = 3013             # every epoch
eval_examples = 500              # the whole valid split
always_save_checkpoint = False   # keep the best valid loss, as the official save_only_improve
eval_max_new_tokens = 128
log_interval = 100
