# Coconut with soft thoughts (coconut.SoftThought: softmax(h E^T) @ E) on MNNS (m = 4), every step
# latent from the first iteration, from stage 0 (config/mnns_coconut0.py). Unlike CoT2's soft targets
# (config/mnns_cot2.py) nothing tells a thought which search states to hold: it only has to help the answer.
exec(open('config/mnns_coconut.py').read())
out_dir = 'out-mnns-coconut-soft'
coconut_thought = 'soft'
no_curriculum = True
