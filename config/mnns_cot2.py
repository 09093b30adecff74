# CoT2's soft targets (CSFT, cot2.py) on MNNS: each latent step learns the distribution over the partial
# sums reachable at that step and reads its soft embedding; Latent-SFT's stage 2 with the task's labels.
# python data/mnns/prepare.py && python cot2.py --dataset=mnns && python train.py config/mnns_cot2.py
exec(open('config/mnns_cot.py').read())
out_dir = 'out-mnns-cot2'
method = 'latent'
latent_stage = 2
latent_labels = 'data/mnns/cot2_labels.pt'
latent_topk = 8          # the largest reachable set of a latent step for m = 4 (cot2.py prints it)
latent_budget = 8        # most latents before <eot> is forced (m - 1 = 3 are trained)
