# Coconut on MNNS (m = 4), as the paper trains it: from stage 0 (config/mnns_coconut0.py), each stage
# replaces one more partial sum and its newline by c = 2 continuous thoughts (the last hidden state fed
# back) until all three are thoughts; 1,000 iterations per stage, AdamW reset at each stage.
# python train.py config/mnns_coconut0.py && python train.py config/mnns_coconut.py
exec(open('config/mnns_coconut0.py').read())
out_dir = 'out-mnns-coconut'
init_from = 'out-mnns-coconut0'
start_stage = 1
epochs_per_stage = 26.4  # 1,000 iterations at batch 128 over the 4,855 train questions
max_iters = 3000         # stages 1-3
