# CODI on 3 x 3 multiplication, from the CoT checkpoint (CPU).
# python train.py config/multiply_cot.py && python train.py config/multiply_codi.py
exec(open('config/multiply_cot.py').read())
out_dir = 'out-multiply-codi'
method = 'codi'
init_from = 'out-multiply-cot'
codi_thoughts = 6
learning_rate = 1e-3
max_iters = 400
lr_decay_iters = 400
