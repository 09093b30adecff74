# ProsQA, Coconut: 6 stages of 5 epochs (one continuous thought per step), then all-latent to epoch 50.
# python train.py config/prosqa_coconut.py    (needs data/prosqa, see prosqa_cot.py)
exec(open('config/prosqa_cot.py').read())
out_dir = 'out-prosqa-coconut'
method = 'coconut'
c_thought = 1
epochs_per_stage = 5.0
max_latent_stage = 6
pad_latent_to_max = True
reset_optimizer = True
