# Coconut with soft thoughts on the quickstart task: from stage 0 (quickstart_coconut0.py), all six
# steps become 18 thoughts at once, each thought the soft embedding softmax(h E^T) @ E of the previous
# position instead of h itself (coconut.SoftThought). With eot_after_steps each thought sits where
# stage 0 wrote the token it replaces, so the all-latent model starts as the stage-0 model itself: on
# every seed measured it solves the valid split at step 0, and the run stops there, untrained.
# python train.py config/quickstart_coconut0.py && python train.py config/quickstart_coconut_soft.py
exec(open('config/quickstart_coconut.py').read())
out_dir = 'out-quickstart-coconut-soft'
coconut_thought = 'soft'
no_curriculum = True     # every step latent from the first iteration (README says why not stage by stage)
max_iters = 400
learning_rate = 3e-5     # if it has to train: at 1e-4 a run on a loss of ~1e-4 blew up (AdamW on a near-zero
                         # loss); at 3e-5 one seed still went from 100% to 86.5% valid and back (README)
eval_interval = 50
stop_at_val_acc = 1.0    # the eval at step 0 counts: a start that already solves valid is not trained
