# ProsQA, No-CoT baseline: python train.py config/prosqa_nocot.py
exec(open('config/prosqa_cot.py').read())
out_dir = 'out-prosqa-nocot'
method = 'nocot'
