# Coconut's stage 0 on the quickstart task: the CoT written inside an empty thought block,
#   Q \n <bot> | <eot> d1 s1 \n d2 s2 \n ... d5 s5 \n ### A <eos>
# trained from scratch with the CoT recipe. Why not start Coconut from the plain CoT checkpoint: a model
# trained from scratch finds the digit to add by its absolute position, so every token the curriculum
# inserts or removes breaks it (README, "Coconut"). With <bot> <eot> already here and c_thought = 3
# thoughts per three-token step, every later stage keeps each explicit token where stage 0 had it.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-coconut0'
method = 'coconut'
start_stage = 0
epochs_per_stage = 1000.0  # stage 0 for the whole run
c_thought = 3            # recorded for the runs that start from here: a thought per token of a 'd s \n' step
max_latent_stage = 5
