# The quickstart without the steps: the model must add six digits mod 10 in one go. It stays near
# chance (10%) for as long as CoT needs to reach 100%. python train.py config/quickstart_nocot.py
exec(open('config/quickstart.py').read())
out_dir = 'out-quickstart-nocot'
method = 'nocot'
