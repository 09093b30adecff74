# Coconut on MNNS (m = 4) with the paper's thought at a token embedding's length (coconut.ScaledThought),
# from the stage 0 with <eot> after the chain (config/mnns_coconut0_eot.py): the running sum's recipe
# (README, "Coconut") on the search task; curriculum, lr and stage length as config/mnns_coconut.py.
# python train.py config/mnns_coconut0_eot.py && python train.py config/mnns_coconut_scaled.py
exec(open('config/mnns_coconut.py').read())
out_dir = 'out-mnns-coconut-scaled'
init_from = 'out-mnns-coconut0-eot'
eot_after_steps = True
coconut_thought = 'scaled'
thought_scale = 0.0      # measured at the start (coconut.measure_thought_scale)
