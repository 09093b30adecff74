# ProsQA, pause-token baseline: as many <pause> tokens as Coconut's final thoughts (6).
exec(open('config/prosqa_cot.py').read())
out_dir = 'out-prosqa-pause'
method = 'pause'
n_pause = 6
