# No-CoT on MNNS: the minimum at once, same model and budget as config/mnns_cot.py
exec(open('config/mnns_cot.py').read())
out_dir = 'out-mnns-nocot'
method = 'nocot'
