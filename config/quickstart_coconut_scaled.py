# Coconut on the quickstart task with the paper's thought at the length of a token embedding: the same
# curriculum, stage 0, lr and positions as quickstart_coconut.py, each thought the last hidden state h
# times one number s (coconut.ScaledThought; s = mean token-embedding length / mean |h|, measured on
# the stage-0 weights, ~0.07 here). Fed back at full length (~12x a token embedding) the thought
# swamps what the first layers add at its column and the curriculum stays at chance; scaled, the
# untrained stage-0 model already solves stage 1, and every stage trains to 100% (README, "Coconut").
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_scaled.py
exec(open('config/quickstart_coconut.py').read())
out_dir = 'out-quickstart-coconut-scaled'
coconut_thought = 'scaled'
thought_scale = 0.0      # measured at the start (coconut.measure_thought_scale)
