# CODI on the quickstart task: from the CoT checkpoint, the same weights learn as teacher (CoT without
# its last step) and as student (6 continuous thoughts, then the answer), the student's hidden states
# at '###' pulled towards the teacher's at every layer.
# python train.py config/quickstart.py && python train.py config/quickstart_codi.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-codi'
method = 'codi'
init_from = 'out-quickstart-cot'
codi_thoughts = 6
max_iters = 1500
lr_decay_iters = 1500
learning_rate = 1e-3
