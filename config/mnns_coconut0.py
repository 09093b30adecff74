# Coconut's stage 0 on MNNS (m = 4): the CoT written inside an empty thought block,
#   Q \n <bot> | <eot> S1 \n S2 \n S3 \n ### A <eos>
# trained from scratch with the CoT recipe, so that the curriculum (config/mnns_coconut.py) keeps every
# explicit token where this model learned to find it (README, "Coconut": a from-scratch model reads by
# position). python train.py config/mnns_coconut0.py && python train.py config/mnns_coconut.py
exec(open('config/mnns_cot.py').read())
out_dir = 'out-mnns-coconut0'
method = 'coconut'
start_stage = 0
epochs_per_stage = 1e6   # stage 0 for the whole run
c_thought = 2            # recorded for the runs that start from here: two thoughts per 'S \n' step
max_latent_stage = 3     # m - 1 steps
