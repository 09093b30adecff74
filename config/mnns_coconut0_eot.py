# Coconut's stage 0 on MNNS (m = 4) with <eot> after the chain (eot_after_steps, as on the quickstart):
#   Q \n <bot> | S1 \n S2 \n S3 \n <eot> ### A <eos>
# With c = 2 thoughts per two-token step 'S \n', thought j of a later stage is then computed at the
# position that predicted CoT token j and sits in that token's column: a drop-in for it. (In
# config/mnns_coconut0.py the first thought comes from the position that predicts <eot>.)
# python train.py config/mnns_coconut0_eot.py && python train.py config/mnns_coconut_scaled.py
exec(open('config/mnns_coconut0.py').read())
out_dir = 'out-mnns-coconut0-eot'
eot_after_steps = True
