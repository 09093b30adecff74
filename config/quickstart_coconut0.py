# Coconut's stage 0 on the quickstart task, which is also the quickstart's CoT: the steps written inside
# the thought block, the model closing it itself (eot_after_steps, coconut.py),
#   Q \n <bot> | d1 s1 \n d2 s2 \n ... d6 s6 \n <eot> ### A <eos>
# trained from scratch with the CoT recipe. Why not start Coconut from a plain CoT checkpoint: a model
# trained from scratch finds the digit to add by its absolute position, so every token the curriculum
# inserts or removes breaks it (README, "Coconut"). With c_thought = 3 thoughts per three-token step,
# thought j of every later stage sits in the column where this model writes CoT token j, and every
# explicit token stays where it is here.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_soft.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-coconut0'
method = 'coconut'
start_stage = 0
epochs_per_stage = 1000.0  # stage 0 for the whole run
c_thought = 3            # recorded for the runs that start from here: a thought per token of a 'd s \n' step
max_latent_stage = 6     # six steps
eot_after_steps = True   # <bot> [thoughts] S(k+1) .. Sn <eot> ### A at every stage
