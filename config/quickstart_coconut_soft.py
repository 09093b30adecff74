# Coconut with soft thoughts on the quickstart task: from stage 0 (quickstart_coconut0.py), all five
# steps become 15 thoughts at once, each thought the soft embedding softmax(h E^T) @ E of the previous
# position instead of h itself (coconut.SoftThought). At the start the thoughts are the stage-0 model's
# own running sums in soft form, so training only has to teach it to keep them continuous.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_soft.py
exec(open('config/quickstart_coconut.py').read())
out_dir = 'out-quickstart-coconut-soft'
coconut_thought = 'soft'
no_curriculum = True     # every step latent from the first iteration (README says why not stage by stage)
max_iters = 400
learning_rate = 3e-5     # at 1e-4 one seed in five reached loss 5e-4 in 10 steps, then blew up (AdamW on a
                         # near-zero loss); at 3e-5 every seed is at 100% on valid by step 50
eval_interval = 50
stop_at_val_acc = 1.0    # it is all-latent from the start, so it may stop at any eval
