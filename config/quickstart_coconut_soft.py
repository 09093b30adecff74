# Coconut with soft thoughts on the quickstart task: from stage 0 (quickstart_coconut0.py), all five
# steps become 10 thoughts at once, each thought the soft embedding softmax(h E^T) @ E of the previous
# position instead of h itself (coconut.SoftThought). At the start the thoughts are the stage-0 model's
# own running sums in soft form, so training only has to teach it to keep them continuous.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_soft.py
exec(open('config/quickstart_coconut.py').read())
out_dir = 'out-quickstart-coconut-soft'
coconut_thought = 'soft'
no_curriculum = True     # every step latent from the first iteration (README says why not stage by stage)
max_iters = 400
