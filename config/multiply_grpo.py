# GRPO on 3 x 3 multiplication (CPU), from the sampling table's checkpoint: the CoT recipe stopped at 600
# of its 1,500 iterations (greedy right on ~80% of the questions, temperature-1 samples less often).
# It trains on the questions whose first operand a is below 500 only: scored on the test questions with
# a < 500 (in domain) and a >= 500 (out of domain), both of which the CoT checkpoint was trained on.
# python data/multiply/prepare.py --operand_split=500
# python train.py config/multiply_cot.py --max_iters=600 --out_dir=out-multiply-cot600
# python train.py config/multiply_grpo.py
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-grpo'
method = 'grpo'
train_split = 'train_a_lt_500'
init_from = 'out-multiply-cot600'
batch_size = 16          # prompts per step, each with grpo_group samples: 128 sampled answers per step
grpo_group = 8
grpo_temperature = 1.0
grpo_max_new_tokens = 48 # an answer with its CoT is 33 tokens
learning_rate = 1e-4
decay_lr = False         # constant, as usual for RL fine-tuning
max_iters = 80
eval_interval = 40
eval_iters = 4           # valid batches of samples: val_reward is temperature-1 accuracy on 64 questions x 8
eval_examples = 200
log_interval = 10
