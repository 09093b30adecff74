"""
The one training loop: config, data, AdamW with warmup and cosine decay, evaluation, atomic checkpoints
that resume exactly, several processes under torchrun. A method is its batch and its loss (METHODS);
the file of each method says what they compute:
    cot, nocot, pause   this file (the baselines of Coconut's Table 1)
    coconut             coconut.py (this loop runs its curriculum: the stage, AdamW reset at a change)
    codi                codi.py
    latent              latent_sft.py (two stages: latent_stage=1 makes the latents, 2 learns to write them)
    grpo                grpo.py (reinforcement from a CoT checkpoint: its loss samples from the model)
    icot                icot.py (this loop runs its removal schedule: the stage, AdamW reset at a change)
    python data/running_sum/prepare.py
    python train.py config/quickstart.py                    # CoT on CPU, a minute or two
    python train.py config/quickstart.py --method=nocot     # same model, no steps
    torchrun --nproc_per_node=8 train.py config/prosqa_coconut.py   # several GPUs (gloo on CPU)
Config: the defaults below, then a config file, then --key=value overrides.
"""
import math
import os
import random
import sys
import time
from contextlib import nullcontext

import numpy as np
import torch

import coconut
import codi
import configurator
import grpo
import icot
import latent_sft
import reasoning as R
import sample
from configurator import above, at_least, between, one_of
from model import GPT, GPT2_REPOS, GPTConfig

# -----------------------------------------------------------------------------
# config
# I/O
out_dir = 'out'
init_from = 'scratch'    # 'scratch' | 'resume' (out_dir/ckpt.pt) | 'gpt2*' (HF weights) | path of a checkpoint to start from
eval_interval = 250      # iterations between evaluations (and checkpoints)
eval_iters = 20          # valid batches for the valid loss
eval_examples = 200      # valid questions decoded greedily for the accuracy (0 = skip)
eval_max_new_tokens = 128
log_interval = 10
always_save_checkpoint = True  # else only when the valid loss improves
stop_at_val_acc = 0.0    # end the run at the first eval whose valid accuracy reaches this (0 = never): a
                         # from-scratch run leaves its loss plateau after a number of steps that varies
                         # with the seed, so a long schedule with this stop is both robust and fast; the
                         # eval at iter 0 counts too (a start that already solves valid is not trained)
# data
dataset = 'running_sum'  # data/<dataset>/{train,valid}.json, written by data/<dataset>/prepare.py
train_split = 'train'    # the split training draws from: a name in data/<dataset>/ or a JSON file's path
method = 'cot'           # cot | nocot | pause | coconut | codi | latent | grpo | icot
batch_size = 64
gradient_accumulation_steps = 1  # micro-batches per step (split over processes under torchrun)
n_pause = 6              # pause tokens between question and answer (method = pause)
# Coconut (method = coconut; coconut.py)
c_thought = 1            # continuous thoughts per replaced step (ProsQA 1, GSM8k 2)
epochs_per_stage = 5.0   # stage k = start_stage + epoch // epochs_per_stage (fractions fine for big generated sets)
max_latent_stage = 6     # stages past this remove every step; the thought count stays capped
start_stage = 0          # 1 when init_from is a CoT checkpoint: stage 0 (plain CoT) is done already
pad_latent_to_max = True # past max stage: always max_latent_stage*c thoughts (else min with the chain's steps)
uniform_prob = 0.0       # probability that an example's stage is drawn uniformly (mixing prevents forgetting)
reset_optimizer = True   # fresh AdamW state at each stage change (Coconut, iCoT), as both official codes
no_curriculum = False    # ablation: the final stage from the first step
no_thoughts = False      # ablation: steps removed by the curriculum, no thoughts in their place
pause_as_thought = False # ablation: thought slots hold a learned <pause> token instead of hidden states
eot_after_steps = False  # <bot> [thoughts] S(k+1)..Sn <eot>: the block holds the whole chain (coconut.py)
coconut_thought = 'hidden'  # 'hidden': the paper's last hidden state; 'scaled': the same times thought_scale,
                         # the length of a token embedding (coconut.ScaledThought); 'soft': softmax(h E^T) @ E
                         # of that position, a thought the model reads like a token (coconut.SoftThought)
thought_scale = 0.0      # coconut_thought = 'scaled': h times this; 0 = measured on the starting weights
                         # (coconut.measure_thought_scale) and recorded in the checkpoint
coconut_keep_position = False  # every token keeps its stage-0 position id, the c thoughts of a step take its
                         # last c positions: with c_thought < a step's length the chain compresses (coconut.py)
# CODI (method = codi; codi.py)
codi_thoughts = 6        # continuous thoughts of the student
codi_prj_dim = 0         # hidden width of the thought projection (0 = n_embd)
codi_alpha = 1.0         # weight of the student's answer cross-entropy
codi_beta = 1.0          # weight of the hidden-state distillation
codi_gamma = 1.0         # weight of the teacher's cross-entropy on steps and answer
codi_teacher = 'shared'  # 'shared': the trained weights make the distilled teacher states (the paper);
                         # 'frozen' (ablation): a frozen copy of the init_from checkpoint makes them
codi_drop_last_step = True  # the teacher's CoT drops its last step (False, ablation: it can copy the answer)
codi_projection = True   # thought = projection(h); False (ablation): the raw last hidden state, as Coconut
# Latent-SFT (method = latent; latent_sft.py)
latent_stage = 1         # 1: learn to make latents from the CoT, then save them; 2: learn to generate them
latent_r = 2             # stage 1: CoT tokens per segment, one latent after each (the compression rate)
latent_first_segment = 0 # stage 1: tokens in the first segment (0 = latent_r, the paper's even cut); the cut
                         # decides what each latent starts as (latent_sft.latent_segments)
latent_cot_bot = False   # stage 1: the init_from CoT wrote its steps after <bot> (Coconut's stage 0 with
                         # eot_after_steps), so the encoder reads Q <bot> S1 L1 .. as that model did
latent_encoder = 'shared' # stage 1: 'shared': the trained model also makes the latents (gradient through z);
                         # 'frozen': a frozen copy of the init_from CoT makes them (latent_sft.attach_frozen_encoder)
latent_topk = 10         # ids mixed in a latent: alpha = softmax of the top-k logits, z = alpha @ E
latent_temperature = 1.0 # stage 1: alpha = softmax(top-k logits / T); T > 1 keeps the latents of a very
                         # confident model soft enough for the gradient to reach the encoder (paper: 1)
latent_label_examples = 0  # stage 1: first N train examples labelled for stage 2 at the end (0 = all)
latent_labels = ''       # stage 2: soft labels file ('' = latent_labels.pt beside the init_from checkpoint)
latent_kl_weight = 1.0   # stage 2: weight of KL(stage-1 alpha || model) where a latent is predicted
latent_ce_weight = 1.0   # stage 2: weight of the cross-entropy on <eot> and the answer
latent_budget = 32       # decoding: most latent steps before <eot> is forced
latent_induction_mask = True    # stage 1: the encoder's induction mask; False (ablation): plain causal
latent_supervision_mask = True  # stage 1: the decoder's supervision mask; False (ablation): plain causal
latent_input = 'soft'    # stage 1: a latent is z = alpha @ E; 'hidden' (ablation): the encoder's last
                         # hidden state at the slot (no soft labels are written, there is no stage 2)
latent_schedule = 'joint'  # stage 2: KL + CE at every step; 'alternate': a KL step, a CE step, a joint step
# iCoT (method = icot; icot.py): from a CoT checkpoint, CoT tokens removed from the front, one at a time
icot_remove_per_epoch = 8.0  # tokens removed per epoch (paper: 8 on GSM8k); fractions and large values fine
icot_smoothing = 4.0     # removal smoothing lambda: P(extra offset o) ~ exp(-lambda o) (0 = off)
icot_keep_position = False  # kept tokens keep their position ids in the full CoT (official --keep_position; the
                         # CPU recipes need it: a model trained from scratch reads by position)
# GRPO (method = grpo; grpo.py): batch_size prompts x grpo_group samples per step, from a CoT checkpoint
grpo_group = 8           # G: samples per prompt; the group's mean reward is each sample's baseline
grpo_temperature = 1.0   # the policy samples (and is scored) at this temperature
grpo_max_new_tokens = 64 # most new tokens per sample
grpo_std_norm = False    # divide the advantage by the group's std (DeepSeekMath) instead of not (Dr. GRPO)
# model (ignored when the weights come from a checkpoint or GPT-2)
n_layer = 4
n_head = 4
n_embd = 128
block_size = 256
dropout = 0.0
bias = True
# AdamW
learning_rate = 1e-3
max_iters = 2000
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0          # 0 = off
decay_lr = True          # linear warmup then cosine to min_lr; False = constant learning_rate
warmup_iters = 100
lr_decay_iters = 2000
min_lr = 1e-4
# system
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
compile = False          # torch.compile the model (worth it on CUDA; ~2% on CPU for a 30 s compile)
seed = 1337
# -----------------------------------------------------------------------------
config_keys = [k for k, v in globals().items() if not k.startswith('_') and isinstance(v, (int, float, bool, str))]
# what each key allows (configurator.check, at start), in the order of the config; validate() adds the
# rules between keys
FLAG, ANY, NAME = one_of(True, False), configurator.ANY, ((lambda v: v != ''), 'not empty')
BELOW_1 = (lambda v: 0 <= v < 1), 'in [0, 1)'
GPT2_NAMES = tuple(GPT2_REPOS)
CHECKS = {
    # I/O (init_from: validate() looks for the file)
    'out_dir': NAME, 'init_from': ANY, 'eval_interval': at_least(1), 'eval_iters': at_least(1),
    'eval_examples': at_least(0), 'eval_max_new_tokens': at_least(1), 'log_interval': at_least(1),
    'always_save_checkpoint': FLAG, 'stop_at_val_acc': between(0, 1),
    # data
    'dataset': NAME, 'train_split': NAME, 'batch_size': at_least(1),
    'method': one_of('cot', 'nocot', 'pause', 'coconut', 'codi', 'latent', 'grpo', 'icot'),
    'gradient_accumulation_steps': at_least(1), 'n_pause': at_least(0),
    # Coconut
    # iCoT, GRPO
    'icot_remove_per_epoch': above(0), 'icot_smoothing': at_least(0), 'icot_keep_position': FLAG, 'grpo_group': at_least(2),
    'grpo_temperature': above(0), 'grpo_max_new_tokens': at_least(1), 'grpo_std_norm': FLAG,
    'c_thought': at_least(1), 'epochs_per_stage': above(0), 'max_latent_stage': at_least(0), 'start_stage': at_least(0),
    'pad_latent_to_max': FLAG, 'uniform_prob': between(0, 1), 'reset_optimizer': FLAG, 'no_curriculum': FLAG,
    'no_thoughts': FLAG, 'pause_as_thought': FLAG, 'eot_after_steps': FLAG, 'coconut_thought': one_of('hidden', 'scaled', 'soft'),
    'thought_scale': at_least(0), 'coconut_keep_position': FLAG,
    # CODI
    'codi_thoughts': at_least(1), 'codi_prj_dim': at_least(0), 'codi_alpha': at_least(0), 'codi_beta': at_least(0),
    'codi_gamma': at_least(0), 'codi_teacher': one_of('shared', 'frozen'), 'codi_drop_last_step': FLAG,
    'codi_projection': FLAG,
    # Latent-SFT
    'latent_stage': one_of(1, 2), 'latent_r': at_least(1), 'latent_first_segment': at_least(0), 'latent_cot_bot': FLAG, 'latent_encoder': one_of('shared', 'frozen'), 'latent_topk': at_least(1), 'latent_temperature': above(0),
    'latent_label_examples': at_least(0), 'latent_labels': ANY, 'latent_kl_weight': at_least(0),
    'latent_ce_weight': at_least(0), 'latent_budget': at_least(0), 'latent_induction_mask': FLAG,
    'latent_supervision_mask': FLAG, 'latent_input': one_of('soft', 'hidden'),
    'latent_schedule': one_of('joint', 'alternate'),
    # model
    'n_layer': at_least(1), 'n_head': at_least(1), 'n_embd': at_least(1), 'block_size': at_least(2),
    'dropout': BELOW_1, 'bias': FLAG,
    # AdamW
    'learning_rate': at_least(0), 'max_iters': at_least(0), 'weight_decay': at_least(0), 'beta1': BELOW_1,
    'beta2': BELOW_1, 'grad_clip': at_least(0), 'decay_lr': FLAG, 'warmup_iters': at_least(0),
    'lr_decay_iters': at_least(0), 'min_lr': at_least(0),
    # system
    'device': sample.DEVICE, 'dtype': sample.DTYPE, 'compile': FLAG, 'seed': at_least(0),
}


def validate(cfg):
    """Every key's range (CHECKS), then the rules between keys: all before any work."""
    configurator.check(cfg, CHECKS)
    if cfg['n_embd'] % cfg['n_head']:
        raise ValueError(f"n_embd={cfg['n_embd']} is not a multiple of n_head={cfg['n_head']}: each head gets n_embd // n_head dims")
    if cfg['decay_lr'] and cfg['min_lr'] > cfg['learning_rate']:
        raise ValueError(f"min_lr={cfg['min_lr']} is above learning_rate={cfg['learning_rate']}: the cosine decays down to min_lr")
    init = cfg['init_from']
    if cfg['method'] == 'latent' and cfg['latent_stage'] == 1 and cfg['latent_encoder'] == 'frozen' and init in ('scratch', 'resume'):
        raise ValueError(f"latent_encoder='frozen' makes the latents with a frozen copy of the init_from checkpoint, not "
                         f"init_from={init!r}: start stage 1 from a CoT checkpoint")
    if cfg['method'] == 'codi' and cfg['codi_teacher'] == 'frozen' and init in ('scratch', 'resume'):
        raise ValueError(f"codi_teacher='frozen' distills from a frozen copy of the init_from checkpoint, not "
                         f"init_from={init!r}: start from a checkpoint or GPT-2 (a frozen-teacher run cannot "
                         f"resume: its checkpoint does not hold the teacher)")
    if cfg['method'] == 'latent' and cfg['latent_stage'] == 2 and cfg['latent_input'] == 'hidden':
        raise ValueError("latent_input='hidden' is a stage-1 ablation: stage 2 learns soft labels (latent_input='soft')")
    if init == 'resume':
        path = os.path.join(cfg['out_dir'], 'ckpt.pt')
        if not os.path.exists(path):
            raise FileNotFoundError(f"init_from='resume': no checkpoint at {path} to resume")
    elif init != 'scratch' and init not in GPT2_NAMES and not os.path.exists(init):
        raise FileNotFoundError(f"init_from={init!r} is not allowed: not 'scratch', 'resume', a GPT-2 name "
                                f"({', '.join(GPT2_NAMES)}), a local GPT-2 directory or a checkpoint path that exists")


# -----------------------------------------------------------------------------
# CoT / No-CoT / Pause (the baselines of Coconut's Table 1): plain next-token prediction on the target
# (steps and answer, or the answer only); no loss on the prompt

def sft_batch(tok, parts, cfg, stage=0, generator=None):
    """x, y (B, T) of collate (stage, generator: what the loop passes every method; unused here)."""
    n_pause = cfg['n_pause'] if cfg['method'] == 'pause' else 0
    pairs = [R.layout(tok, p, cfg['method'], n_pause=n_pause) for p in parts]
    return R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'])[:2]


def sft_loss(model, batch, cfg):
    x, y = batch
    _, loss = model(x, y)  # right padding only: plain causal attention, no mask needed
    return loss


# -----------------------------------------------------------------------------
# every method is its batch and its loss: batch(tok, parts, cfg, stage, generator) -> tensors on
# cfg['device'] (stage: Coconut's curriculum stage; generator: the batch stream's checkpointed RNG),
# loss(model, batch, cfg) -> a scalar. A new method is a file with these two functions and a line here.
METHODS = {
    'cot': (sft_batch, sft_loss), 'nocot': (sft_batch, sft_loss), 'pause': (sft_batch, sft_loss),
    'coconut': (coconut.coconut_batch, coconut.coconut_loss),
    'codi': (codi.codi_batch, codi.codi_loss),
    'latent': (latent_sft.latent_batch, latent_sft.latent_loss),
    'grpo': (grpo.grpo_batch, grpo.grpo_loss),
    'icot': (icot.icot_batch, icot.icot_loss),
}
# methods with a schedule: iteration -> stage (Coconut's curriculum stage, iCoT's removed token count);
# the loop resets AdamW when it changes (reset_optimizer)
STAGES = {'coconut': coconut.coconut_stage, 'icot': icot.icot_removed}


def get_batch(split_parts, tok, generator, cfg, stage=0):
    """A random batch for the configured method, drawn with `generator` (checkpointed)."""
    ix = torch.randint(len(split_parts), (cfg['batch_size'],), generator=generator).tolist()
    make_batch, _ = METHODS[cfg['method']]
    return make_batch(tok, [split_parts[i] for i in ix], cfg, stage, generator)


def compute_loss(model, batch, cfg):
    _, loss = METHODS[cfg['method']]
    return loss(model, batch, cfg)


# -----------------------------------------------------------------------------
# the loop's helpers

def get_lr(it, cfg):
    """Linear warmup, then cosine from learning_rate down to min_lr at lr_decay_iters (nanoGPT)."""
    if not cfg['decay_lr']:
        return cfg['learning_rate']
    if it < cfg['warmup_iters']:
        return cfg['learning_rate'] * (it + 1) / (cfg['warmup_iters'] + 1)
    if it > cfg['lr_decay_iters']:
        return cfg['min_lr']
    ratio = (it - cfg['warmup_iters']) / max(1, cfg['lr_decay_iters'] - cfg['warmup_iters'])
    return cfg['min_lr'] + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg['learning_rate'] - cfg['min_lr'])


def rng_state(generator):
    return {'torch': torch.get_rng_state(), 'batches': generator.get_state(), 'numpy': np.random.get_state(),
            'python': random.getstate(), 'cuda': torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state, generator):
    torch.set_rng_state(state['torch'])
    generator.set_state(state['batches'])
    np.random.set_state(state['numpy'])
    random.setstate(state['python'])
    if state['cuda'] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def attach_thought_map(model, cfg):
    """The map from a hidden state to the next thought's input that the method feeds back, as
    model.thought_proj: Coconut's SoftThought (coconut_thought = 'soft') or CODI's projection."""
    coconut.attach_thought(model, cfg)
    codi.attach_thought_projection(model, cfg)


def load_weights(cfg, tok):
    """The model (and the checkpoint when resuming) that init_from asks for."""
    vocab_size = R.padded_vocab(tok)
    if cfg['init_from'] == 'scratch':
        args = dict(block_size=cfg['block_size'], vocab_size=vocab_size, n_layer=cfg['n_layer'],
                    n_head=cfg['n_head'], n_embd=cfg['n_embd'], dropout=cfg['dropout'], bias=cfg['bias'])
        print(f"new model from scratch: {args}")
        model = GPT(GPTConfig(**args))
        attach_thought_map(model, cfg)
        return model, None
    hf_dir = os.path.isfile(os.path.join(cfg['init_from'], 'config.json'))  # a local copy of HF GPT-2 weights
    if cfg['init_from'] in GPT2_NAMES and not os.path.exists(cfg['init_from']) or hf_dir:
        if tok.kind != 'gpt2':
            raise ValueError(f"init_from={cfg['init_from']!r} needs the gpt2 tokenizer; dataset {cfg['dataset']!r} uses {tok.kind}")
        model = GPT.from_pretrained(cfg['init_from'], dropout=cfg['dropout'])
        attach_thought_map(model, cfg)
        return model, None
    path = os.path.join(cfg['out_dir'], 'ckpt.pt') if cfg['init_from'] == 'resume' else cfg['init_from']
    path = os.path.join(path, 'ckpt.pt') if os.path.isdir(path) else path
    if not os.path.exists(path):
        raise FileNotFoundError(f"init_from={cfg['init_from']!r}: no checkpoint at {path}")
    ckpt = R.load_checkpoint_file(path, cfg['device'])
    if ckpt['meta'] != R.load_meta(os.path.join('data', cfg['dataset'])):
        raise ValueError(f"{path} was trained with another tokenizer than dataset {cfg['dataset']!r} uses")
    trained = ckpt['config']['method']
    if cfg['init_from'] == 'resume' and trained != cfg['method']:
        raise ValueError(f"{path} was trained with method={trained!r}; cannot resume it as method={cfg['method']!r}")
    if cfg['init_from'] == 'resume' and trained == 'latent' and ckpt['config']['latent_stage'] != cfg['latent_stage']:
        raise ValueError(f"{path} is Latent-SFT stage {ckpt['config']['latent_stage']}; cannot resume it as stage {cfg['latent_stage']}")
    model = GPT(GPTConfig(**ckpt['model_args']))
    codi.attach_thought_projection(model, ckpt['config'])  # a CODI checkpoint holds its projection
    model.load_state_dict(ckpt['model'])
    attach_thought_map(model, cfg)  # starting CODI from another method: a fresh projection
    print(f"weights from {path} (method {trained}, iter {ckpt['iter_num']})")
    if cfg['method'] == 'latent' and cfg['latent_stage'] == 1 and cfg['init_from'] != 'resume' and trained in ('cot', 'coconut'):
        wrote_bot = trained == 'coconut' and ckpt['config'].get('eot_after_steps', False)
        if wrote_bot != cfg['latent_cot_bot']:  # the encoder would read the CoT one position off its parent's layout
            raise ValueError(f"{path} wrote its steps {'after' if wrote_bot else 'without'} <bot>: set latent_cot_bot={wrote_bot}")
    return model, ckpt if cfg['init_from'] == 'resume' else None


@torch.no_grad()
def evaluate(model, valid_parts, valid_examples, tok, cfg, ctx, stage):
    """Valid loss on fixed batches (a fixed seed: comparable across evals, no effect on training's
    randomness) and greedy accuracy on the first eval_examples questions, both at the current stage."""
    model.eval()
    g = torch.Generator().manual_seed(0)
    losses, rewards = [], []
    for _ in range(cfg['eval_iters']):
        with ctx:
            loss = compute_loss(model, get_batch(valid_parts, tok, g, cfg, stage), cfg)
        losses.append(loss.item())
        rewards.append(getattr(loss, 'reward', None))  # GRPO: the mean reward of the batch's samples
    out = {'val_loss': sum(losses) / len(losses)}
    if cfg['method'] == 'grpo':
        out['val_reward'] = sum(rewards) / len(rewards)
    if cfg['eval_examples'] and cfg['method'] == 'latent' and cfg['latent_stage'] == 1:  # nothing to decode yet
        with ctx:
            batch = latent_sft.latent_batch(tok, valid_parts[:cfg['eval_examples']], cfg)
            out['val_acc'] = latent_sft.latent_stage1_accuracy(model, batch, tok, cfg['latent_topk'],
                                                               cfg['latent_temperature'], cfg['latent_input'])
    elif cfg['eval_examples']:
        with ctx:
            res = sample.evaluate(model, tok, {'config': cfg, 'stage': stage}, valid_examples[:cfg['eval_examples']],
                                  batch_size=cfg['batch_size'], max_new_tokens=cfg['eval_max_new_tokens'])
        out.update(val_acc=res['accuracy'], val_tokens=res['tokens_per_question'])
    model.train()
    return out


def setup_distributed():
    """(rank, world_size, device) for torchrun (RANK set) or a single process. NCCL between GPUs,
    gloo on CPU (how the 2-process test runs)."""
    if int(os.environ.get('RANK', -1)) == -1:
        return 0, 1, device
    import torch.distributed as dist
    dist.init_process_group(backend='nccl' if 'cuda' in device else 'gloo')
    rank, local_rank = dist.get_rank(), int(os.environ['LOCAL_RANK'])
    dev = f'cuda:{local_rank}' if 'cuda' in device else 'cpu'
    if 'cuda' in dev:
        torch.cuda.set_device(dev)
    return rank, dist.get_world_size(), dev


def all_reduce_sum(tensors, world_size):
    """Sum across processes, as one flat buffer (one collective). We reduce gradients by hand instead
    of wrapping the model in DDP because Coconut and CODI run the model several times per step, which
    DDP's one-forward-per-backward hooks do not allow."""
    if world_size == 1:
        return
    import torch.distributed as dist
    flat = torch.cat([t.flatten() for t in tensors])
    dist.all_reduce(flat)
    for t, chunk in zip(tensors, flat.split([t.numel() for t in tensors])):
        t.copy_(chunk.view_as(t))


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    cfg = {k: globals()[k] for k in config_keys}  # what the checkpoint records
    validate(cfg)
    rank, world, dev = setup_distributed()
    master = rank == 0
    if not master:
        sys.stdout = open(os.devnull, 'w')  # one process speaks; the others would only repeat it
    assert gradient_accumulation_steps % world == 0, f"gradient_accumulation_steps must be a multiple of {world} processes"
    accum = gradient_accumulation_steps // world  # micro-batches per process; the global batch stays the same
    cfg_run = {**cfg, 'device': dev}
    torch.manual_seed(seed)  # the same on every process: identical initial weights
    random.seed(seed)
    np.random.seed(seed)
    generator = torch.Generator().manual_seed(seed)  # draws the global batches, the same on every process
    device_type = 'cuda' if 'cuda' in dev else 'cpu'
    if device_type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device_type == 'cpu' else torch.autocast(device_type=device_type, dtype=ptdtype)

    data_dir = os.path.join('data', dataset)
    meta = R.load_meta(data_dir)
    tok = R.get_tokenizer(meta)
    train_examples, valid_examples = R.load_split(data_dir, train_split), R.load_split(data_dir, 'valid')
    train_parts = [R.encode_parts(tok, ex) for ex in train_examples]
    valid_parts = [R.encode_parts(tok, ex) for ex in valid_examples]
    unknown = R.unknown_words(tok, [t for ex in train_examples + valid_examples for t in [ex['question'], ex['answer']] + ex['steps']])
    if unknown:  # prepare.py builds the vocab from every split, so this is a hand-edited file
        print(f"warning: data/{dataset} has words outside its meta.json vocabulary, read as <unk>: "
              + ', '.join(map(repr, unknown[:20])) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else ''))
    print(f"{dataset}: {len(train_parts):,} train / {len(valid_parts):,} valid examples, {tok.kind} tokenizer "
          f"({tok.n_vocab} ids), method {method}, {batch_size * gradient_accumulation_steps} examples per step"
          + (f" over {world} processes" if world > 1 else ''))

    model, ckpt = load_weights(cfg_run, tok)
    model.to(dev)
    if method == 'codi' and codi_teacher == 'frozen':  # before any step: the init checkpoint's weights
        codi.attach_frozen_teacher(model)
    if method == 'latent' and latent_stage == 1 and ckpt is None:
        latent_sft.latent_init_slot(model, tok)
        if latent_encoder == 'frozen':  # after the slot row is zeroed, before any step
            latent_sft.attach_frozen_encoder(model)
    if method == 'latent' and latent_stage == 2:  # the examples now carry their stage-1 soft labels
        cfg['latent_labels'] = cfg_run['latent_labels'] = latent_sft.latent_labels_path(cfg, ckpt)  # recorded for resuming
        train_parts, valid_parts = latent_sft.latent_load_labels(cfg['latent_labels'], cfg, (train_examples, train_parts),
                                                                 (valid_examples, valid_parts))
    if method == 'icot' and icot_keep_position:  # decoding skips min(removed, this) positions; recorded for it
        cfg['icot_chain_len'] = cfg_run['icot_chain_len'] = icot.icot_chain_length(train_parts + valid_parts)
        print(f"iCoT keep_position: every CoT has {cfg['icot_chain_len']} tokens; the kept ones keep their positions")
    if method == 'coconut' and coconut_thought == 'scaled' and thought_scale == 0:  # once, on the starting weights
        cfg['thought_scale'] = cfg_run['thought_scale'] = (ckpt['config']['thought_scale'] if ckpt is not None else
                                                            coconut.measure_thought_scale(model, tok, train_parts[:256], cfg_run))
    if method == 'coconut' and coconut_keep_position:  # decoding places the thoughts with it; recorded for it
        cfg['coconut_step_len'] = cfg_run['coconut_step_len'] = coconut.coconut_step_length(train_parts + valid_parts, c_thought)
        print(f"Coconut keep_position: steps of {cfg['coconut_step_len']} tokens, {c_thought} thought(s) each at the "
              f"last position(s) of its step; every token keeps its stage-0 position")
    if method == 'coconut':
        coconut.attach_thought(model, cfg_run)
    print(f"{model.get_num_params() / 1e6:.2f}M parameters (non-embedding)")
    if method == 'coconut':
        kinds = {'soft': "soft thoughts, softmax(h E^T) @ E", 'hidden': "the last hidden state as the thought",
                 'scaled': f"the last hidden state times {cfg['thought_scale']:.4f} as the thought (a token embedding's length)"}
        print(f"Coconut: {c_thought} thought(s) per step, " + kinds[coconut_thought]
              + (", <eot> after the remaining steps" if eot_after_steps else ", <eot> right after the thoughts"))
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
    iter_num, best_val_loss = 0, float('inf')
    if ckpt is not None:
        optimizer.load_state_dict(ckpt['optimizer'])
        iter_num, best_val_loss = ckpt['iter_num'], ckpt['best_val_loss']
        set_rng_state(ckpt['rng'], generator)
        print(f"resuming at iter {iter_num}")
    torch.manual_seed(seed + rank)  # dropout masks differ between processes
    raw_model = model
    if compile:
        print("compiling the model (takes a minute)...")
        model = torch.compile(model)
    os.makedirs(out_dir, exist_ok=True)

    model.train()
    t0, tokens = time.time(), 0
    stage = STAGES[method](iter_num, len(train_parts), cfg) if method in STAGES else 0
    if ckpt is not None and method in STAGES:
        stage = ckpt['stage']  # the stage it was trained at: a change at this very iteration still resets AdamW
    while True:
        if method in STAGES and iter_num < max_iters:  # the last checkpoint keeps the stage it was trained at
            new_stage = STAGES[method](iter_num, len(train_parts), cfg)
            if new_stage != stage:
                if master:  # score the finished stage on its own layout: where a curriculum breaks
                    stats = evaluate(model, valid_parts, valid_examples, tok, cfg_run, ctx, stage)
                    print(f"end of stage {stage} (iter {iter_num}): "
                          + ', '.join(f"{k} {v:.4f}" for k, v in stats.items()))
                print(f"iter {iter_num}: {method} stage {stage} -> {new_stage}"
                      + (", optimizer reset" if reset_optimizer else ''))
                if reset_optimizer:
                    optimizer = raw_model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
                stage = new_stage
        if master and (iter_num % eval_interval == 0 or iter_num == max_iters):
            stats = evaluate(model, valid_parts, valid_examples, tok, cfg_run, ctx, stage)
            print(f"eval iter {iter_num}" + (f" (stage {stage})" if method in STAGES else '') + ": "
                  + ', '.join(f"{k} {v:.4f}" for k, v in stats.items()))
            # a NaN valid loss is never saved: the training loss of the same weights stops the run next,
            # on every process, and the last good checkpoint must still be there
            if math.isfinite(stats['val_loss']) and (stats['val_loss'] < best_val_loss or always_save_checkpoint):
                best_val_loss = min(best_val_loss, stats['val_loss'])
                R.save_checkpoint(os.path.join(out_dir, 'ckpt.pt'), {
                    'model': raw_model.state_dict(), 'model_args': vars(raw_model.config),
                    'optimizer': optimizer.state_dict(), 'iter_num': iter_num, 'best_val_loss': best_val_loss,
                    'config': cfg, 'meta': meta, 'rng': rng_state(generator), 'stats': stats, 'stage': stage})
        if iter_num >= max_iters:
            break
        if stop_at_val_acc > 0 and iter_num % eval_interval == 0:  # iter 0 too: a solved start is not trained
            # a curriculum stops only in its last stage; every process takes the master's decision
            # (the stage of the last step trained, max_iters - 1: the loop never enters the stage of max_iters)
            last_stage = method not in STAGES or stage == STAGES[method](max(max_iters - 1, 0), len(train_parts), cfg)
            stop = torch.tensor(float(master and last_stage and stats.get('val_acc', 0) >= stop_at_val_acc), device=dev)
            all_reduce_sum([stop], world)
            if stop.item() > 0:
                if master:
                    print(f"iter {iter_num}: valid accuracy {stats['val_acc']:.4f} >= stop_at_val_acc "
                          f"{stop_at_val_acc}; stopping. The checkpoint is in {out_dir}")
                break

        lr = get_lr(iter_num, cfg)
        for group in optimizer.param_groups:
            group['lr'] = lr
        # one seed per micro-batch of the global batch, drawn identically on every process, so the
        # global batch does not depend on how many processes share it
        seeds = torch.randint(2 ** 62, (gradient_accumulation_steps,), generator=generator).tolist()
        loss_sum, reward = torch.zeros((), device=dev), 0.0
        for micro in range(accum):
            g = torch.Generator().manual_seed(seeds[rank * accum + micro])
            batch = get_batch(train_parts, tok, g, cfg_run, stage)
            tokens += batch[0].numel()
            with ctx:  # the iteration: for a loss with a schedule (Latent-SFT's alternate stage 2)
                loss = compute_loss(model, batch, {**cfg_run, 'iter_num': iter_num})
            reward += getattr(loss, 'reward', 0.0) / accum  # GRPO: its samples' mean reward (this process's)
            loss = loss / gradient_accumulation_steps
            loss.backward()
            loss_sum += loss.detach()
        # each micro-batch loss was divided by the global micro-batch count: summing over processes
        # gives exactly the single-process gradient and mean loss of the same global batch
        params = [p for p in model.parameters() if p.grad is not None]
        all_reduce_sum([p.grad for p in params] + [loss_sum], world)
        lossf = loss_sum.item()
        if not math.isfinite(lossf):
            print(f"iter {iter_num}: loss is {lossf}; stopping. The last good checkpoint is in {out_dir}")
            sys.exit(1)
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

        if master and iter_num % log_interval == 0:
            dt = time.time() - t0
            mfu = raw_model.estimate_mfu(tokens / dt, block_size, dev) if dt > 0 else None  # per GPU
            print(f"iter {iter_num}: loss {lossf:.6f}, lr {lr:.2e}, {world * tokens / dt:,.0f} tok/s"
                  + (f", reward {reward:.3f}" if method == 'grpo' else '')
                  + (f", mfu {mfu * 100:.1f}%" if mfu else ''))
            t0, tokens = time.time(), 0
        iter_num += 1
    if master and method == 'latent' and latent_stage == 1 and latent_input == 'hidden':
        print("latent_input='hidden': no soft labels written (hidden-state latents have no alpha for stage 2)")
    elif master and method == 'latent' and latent_stage == 1:  # stage 1's product: the targets of stage 2
        latent_sft.latent_save_labels(raw_model, tok, cfg_run, ctx, (train_examples, train_parts),
                                      (valid_examples, valid_parts))
    if world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
