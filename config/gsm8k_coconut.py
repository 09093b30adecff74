# GSM8k-Aug, Coconut from the CoT checkpoint (official args/gsm_coconut.yaml: resume at epoch 3, i.e.
# stage 1; c = 2 thoughts per step; 3 epochs per stage; max stage 3; 22 more epochs in all).
# python train.py config/gsm8k_coconut.py     (after config/gsm8k_cot.py)
exec(open('config/gsm8k_cot.py').read())
out_dir = 'out-gsm8k-coconut'
method = 'coconut'
init_from = 'out-gsm8k-cot'
start_stage = 1
c_thought = 2
epochs_per_stage = 3.0
max_latent_stage = 3
pad_latent_to_max = True
reset_optimizer = True
always_save_checkpoint = True
max_iters = 66286                # 22 epochs
