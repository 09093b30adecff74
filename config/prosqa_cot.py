# ProsQA, CoT baseline, GPT-2 small on one GPU (Coconut's Table 1 setting).
# python data/prosqa/prepare.py && python train.py config/prosqa_cot.py
# Official (args/prosqa_*.yaml): batch 32 x 4 GPUs = 128, lr 1e-4, AdamW wd 0.01, no schedule, 50 epochs.
out_dir = 'out-prosqa-cot'
dataset = 'prosqa'
method = 'cot'
init_from = 'gpt2'
block_size = 1024
batch_size = 32
gradient_accumulation_steps = 4  # effective batch 128
learning_rate = 1e-4
weight_decay = 0.01
decay_lr = False
max_iters = 6987                 # 50 epochs of 17,886 examples at 128 per step
eval_interval = 699              # every 5 epochs
eval_examples = 300              # the whole valid split
eval_max_new_tokens = 128
log_interval = 50
