"""
The command line for a trained checkpoint: sample from a question, or score a split (accuracy, # tokens,
pass@k) with any decoder. Each decoder lives with its method; this file picks one (make_decoder):
    plain, base, lowtemp    reasoning.generate: prefill once (Coconut's and CODI's thoughts run there),
                            then one position per step on the KV cache
    a Latent-SFT checkpoint latent_sft.latent_generate
    power                   power_sampling.power_generate
    soft_*                  soft_thinking.soft_generate
    python sample.py --out_dir=out-quickstart --start="3 5 1 9 2 4"
    python sample.py --out_dir=out-quickstart --eval=test           # ends with one JSON line
    python sample.py --out_dir=out-multiply-cot --eval=test --sampler=soft_gumbel --js_probe=True
Every function here is importable; the CLI is at the bottom.
"""
import json
import math
import os
import sys
import time
from contextlib import nullcontext

import torch

import coconut
import codi
import configurator
import icot
import latent_sft
import power_sampling
import reasoning as R
import soft_thinking
from configurator import above, at_least, between, one_of
from model import GPT, GPTConfig

# -----------------------------------------------------------------------------
# config (override with --key=value)
out_dir = 'out'          # where train.py wrote ckpt.pt
start = '0 1 2 3 4 5'    # a question, or FILE:path to read it from
eval = ''                # '' to sample from --start; 'valid' | 'test' | path/to/split.json to score a split
eval_limit = 0           # score only the first N examples (0 = all)
num_samples = 1          # samples per prompt (rows of the cache repeated after one prefill)
max_new_tokens = 128     # generation budget per question
temperature = 0.0        # 0 = greedy
top_k = 0                # keep the k most likely tokens (0 = off)
top_p = 1.0              # nucleus: keep the smallest set with mass >= top_p (1.0 = off)
probe = False            # continuous thoughts: print the top tokens each thought decodes to (LM head);
                         # Latent-SFT: each latent's top tokens and effective parallelism N_eff (with --eval: mean N_eff)
thought_probes = False   # --eval, Coconut/CODI/Latent-SFT: also the accuracy with zero thoughts and with another example's
                         # thoughts (the swap), and which step each thought decodes to (coconut.thought_probes,
                         # latent_sft.latent_thought_probes)
latent_budget = 0        # Latent-SFT: most latent steps before <eot> is forced (0 = the checkpoint's latent_budget)
sampler = 'plain'        # plain (greedy / temperature / top-k / top-p) | base (temperature 1) | lowtemp (1/alpha) | power
                         # | soft_vanilla | soft_dirichlet | soft_gumbel
# power sampling (sampler = power; power_sampling.py)
alpha = 4.0              # target p^alpha over whole continuations; proposal and lowtemp: temperature 1/alpha
mcmc_block = 192         # tokens added per block (paper: 192)
mcmc_steps = 10          # Metropolis-Hastings steps after each block (paper: 10; max_new_tokens 3072)
pass_k = [1, 2, 4, 8]    # --eval: pass@k for each k <= num_samples
plot = ''                # --eval: write a PNG of pass@k vs k to this path (needs matplotlib)
# soft thinking (sampler = soft_vanilla | soft_dirichlet | soft_gumbel; soft_thinking.py; a CoT checkpoint).
# The answer after thinking is decoded with the plain `temperature` (0 = greedy, the default).
soft_temperature = 0.6   # T in p = softmax(logits / T) while thinking (Zhang et al.'s 0.6)
soft_top_k = 15          # the soft token mixes at most this many ids (0 = off)
soft_top_p = 0.95        # ... from the smallest set with mass >= soft_top_p
soft_min_p = 0.001       # ... each with p >= soft_min_p * max p (0 = off)
gamma = 4.0              # soft_dirichlet: pi ~ Dir(gamma * p)
tau = 0.5                # soft_gumbel: pi = softmax((log p + g) / tau)
cold_stop_entropy = 0.01 # Cold Stop: stop thinking after cold_stop_steps soft steps in a row whose p has
cold_stop_steps = 256    # entropy (nats) below cold_stop_entropy (0 = off; Zhang et al.'s 0.01 and 256)
think_budget = 96        # at most this many soft steps, then the end of thinking is forced
score_under = ''         # --eval: also score every sample under this checkpoint (e.g. the base model a GRPO run
                         # started from): mean log-likelihood and confidence (score_samples)
js_probe = False         # soft samplers: Jensen-Shannon divergence of the next-token distribution after the soft input vs after the top-1 (top-2) token
batch_size = 64          # questions decoded together
seed = 1337
compile = torch.cuda.is_available()  # torch.compile the single-token decode step (one graph; prefill stays eager)
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
# -----------------------------------------------------------------------------
# what each key allows (configurator.check, at start; HF's generation config refuses the same values);
# validate() adds the rules between keys
FLAG, ANY = one_of(True, False), configurator.ANY
SAMPLERS = ('plain', 'base', 'lowtemp', 'power') + tuple('soft_' + m for m in soft_thinking.SOFT_MODES)
DEVICE = (lambda v: v.split(':')[0] in ('cpu', 'cuda', 'mps')), "'cpu', 'cuda', 'cuda:N' or 'mps'"
DTYPE = one_of('float32', 'bfloat16', 'float16')
PROB = (lambda v: 0 < v <= 1), 'in (0, 1]'  # top_p: 0 would keep nothing
CHECKS = {
    'out_dir': ANY, 'start': ANY, 'eval': ANY, 'eval_limit': at_least(0),  # start, eval: validate() looks for their files
    'num_samples': at_least(1), 'max_new_tokens': at_least(1), 'temperature': at_least(0), 'top_k': at_least(0),
    'top_p': PROB, 'probe': FLAG, 'thought_probes': FLAG, 'latent_budget': at_least(0), 'sampler': one_of(*SAMPLERS),
    'alpha': above(0), 'mcmc_block': at_least(1), 'mcmc_steps': at_least(0),
    'pass_k': ((lambda v: len(v) > 0 and all(type(k) is int and k >= 1 for k in v)), 'a list of integers >= 1'),
    'plot': ANY, 'score_under': ANY, 'soft_temperature': above(0), 'soft_top_k': at_least(0), 'soft_top_p': PROB,
    'soft_min_p': between(0, 1), 'gamma': above(0), 'tau': above(0), 'cold_stop_entropy': at_least(0),
    'cold_stop_steps': at_least(0), 'think_budget': at_least(0), 'js_probe': FLAG, 'batch_size': at_least(1),
    'seed': at_least(0), 'compile': FLAG, 'device': DEVICE, 'dtype': DTYPE,
}


def validate(cfg):
    """Every key's range (CHECKS), then the rules between keys: all before the checkpoint loads."""
    configurator.check(cfg, CHECKS)
    if cfg['start'].startswith('FILE:') and not os.path.isfile(cfg['start'][5:]):
        raise FileNotFoundError(f"start={cfg['start']!r}: no file {cfg['start'][5:]}")
    if cfg['eval'].endswith('.json') and not os.path.isfile(cfg['eval']):
        raise FileNotFoundError(f"eval={cfg['eval']!r}: no file {cfg['eval']}")
    for key in ('thought_probes', 'plot', 'score_under'):  # they only make sense over a split: an error, not a flag silently ignored
        if cfg[key] and not cfg['eval']:
            raise ValueError(f"{key}={cfg[key]!r} needs --eval (a split to score)")
    if cfg['js_probe'] and not cfg['sampler'].startswith('soft_'):
        raise ValueError(f"js_probe=True needs a soft sampler, not sampler={cfg['sampler']!r}")


def load_checkpoint(path, device='cpu'):
    """(model, tokenizer, checkpoint dict) from out_dir/ckpt.pt or a .pt path."""
    path = os.path.join(path, 'ckpt.pt') if os.path.isdir(path) else path
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}: train one with train.py first")
    ckpt = R.load_checkpoint_file(path, device)
    model = GPT(GPTConfig(**ckpt['model_args']))
    codi.attach_thought_projection(model, ckpt['config'])  # CODI's thought projection, if any
    model.load_state_dict(ckpt['model'])
    coconut.attach_thought(model, ckpt['config'])  # Coconut's thought map (soft or scaled), if it was trained with one
    model.to(device).eval()
    return model, R.get_tokenizer(ckpt['meta']), ckpt


def method_decoder(model, tok, ckpt, max_new_tokens=128, temperature=0.0, top_k=0, top_p=1.0, num_samples=1,
                   generator=None, budget=0):
    """How a checkpoint decodes with the plain settings: reasoning.generate (any thought slots are in the
    prompt), or, for Latent-SFT, latent_sft.latent_generate, which writes its latents before the answer."""
    cfg = ckpt['config']
    if cfg['method'] == 'latent':
        if cfg['latent_stage'] != 2:
            raise ValueError("a Latent-SFT stage-1 checkpoint makes soft labels; it does not decode: train stage 2")
        return lambda prompts: latent_sft.latent_generate(model, tok, prompts, max_new_tokens, cfg['latent_topk'],
                                                          budget or cfg['latent_budget'], temperature, top_k, top_p,
                                                          num_samples, generator)
    if cfg['method'] == 'icot' and cfg.get('icot_keep_position', False):  # the removed tokens' positions skipped
        shift = icot.icot_shift(cfg, ckpt.get('stage') or 0)
        return lambda prompts: icot.icot_generate(model, tok, prompts, max_new_tokens, shift, temperature, top_k,
                                                  top_p, num_samples, generator)
    return lambda prompts: R.generate(model, tok, prompts, max_new_tokens, temperature, top_k, top_p,
                                      num_samples, generator)


def pass_at_k(correct, num_samples, ks):
    """Unbiased pass@k (Chen et al. 2021) averaged over questions: with c of n samples correct,
    1 - C(n-c, k) / C(n, k), the chance that k of the n samples drawn without replacement hold one
    correct. correct: num_samples booleans per question, in order. Returns {k: value} for k <= n."""
    n = num_samples
    assert len(correct) % n == 0, "num_samples booleans per question"
    per_q = [sum(correct[i:i + n]) for i in range(0, len(correct), n)]
    return {k: sum(1 - math.comb(n - c, k) / math.comb(n, k) for c in per_q) / len(per_q) for k in ks if k <= n}


def evaluate(model, tok, ckpt, examples, batch_size=64, max_new_tokens=128, temperature=0.0, top_k=0,
             top_p=1.0, num_samples=1, generator=None, progress=False, decode=None):
    """Decode every example and score it. decode(prompts) -> num_samples id lists per prompt, in
    order (default: generate with the given settings). Returns a dict with accuracy (over all
    samples), tokens_per_question (mean new tokens per sample: <eos> included, each continuous
    thought counted as one), n and the decoded texts."""
    if decode is None:
        decode = method_decoder(model, tok, ckpt, max_new_tokens, temperature, top_k, top_p, num_samples, generator)
    correct, n_tokens, texts, pairs = [], [], [], []
    batches = range(0, len(examples), batch_size)
    if progress:
        from tqdm import tqdm
        batches = tqdm(batches, desc='eval', leave=False)
    for i in batches:
        chunk = examples[i:i + batch_size]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in chunk]
        outs = decode(prompts)
        for j, ids in enumerate(outs):
            ex = chunk[j // num_samples]
            text = tok.decode(ids)
            texts.append(text)
            pairs.append((prompts[j // num_samples], ids))
            correct.append(R.is_correct(text, ex))
            n_tokens.append(len(ids) + prompts[j // num_samples].count(tok.id(R.LATENT)))  # a thought counts as a token
    return {'accuracy': sum(correct) / len(correct), 'tokens_per_question': sum(n_tokens) / len(n_tokens),
            'n': len(examples), 'num_samples': num_samples, 'correct': correct, 'texts': texts, 'pairs': pairs}


@torch.no_grad()
def score_samples(model, tok, pairs, batch_size=64):
    """How a (base) model sees samples: pairs of (prompt ids, sample ids) -> per sample its log-likelihood
    (sum over its tokens of log p, temperature 1, over the ids sampling may pick) and its confidence,
    self-certainty (Kang et al. 2025): the mean over its tokens of KL(U || p(. | context)), U uniform
    over those ids; 0 for a uniform p, large where p is peaked. Power sampling's paper compares these
    histograms: sharpening samplers and GRPO both move samples to where the base model is sure."""
    device = model.lm_head.weight.device
    assert all(tok.id(R.LATENT) not in p for p, _ in pairs), "thought slots need their method's forward: score token samples"
    lls, confs = [], []
    for i in range(0, len(pairs), batch_size):
        x, y, _ = R.collate(pairs[i:i + batch_size], tok.id(R.PAD), device, model.config.block_size)
        logits, _ = model(x)  # (B, T, V)
        banned = R.banned_mask(tok, logits.size(-1), device, R.closes_thought(tok, [p for p, _ in pairs[i:i + batch_size]]))
        logp = torch.log_softmax(R.filter_logits(logits.flatten(0, 1), banned=banned), -1).view_as(logits)
        allowed = ~banned
        n = allowed.sum()
        kl_u = -torch.log(n.float()) - logp[..., allowed].sum(-1) / n  # (B, T): KL(U || p) at each position
        mask = y >= 0
        lls += (logp.gather(-1, y.clamp(min=0)[..., None]).squeeze(-1) * mask).sum(1).tolist()
        confs += ((kl_u * mask).sum(1) / mask.sum(1)).tolist()
    return lls, confs


def thinking_length(tok, text):
    """Tokens a decoded text spends before the answer marker (all of them when it has none)."""
    return len(tok.encode(text.split(R.MARKER, 1)[0]))


def make_decoder(model, tok, generator, ckpt=None, stats=None):
    """The decoder the CLI config asks for: a function from a list of prompts to num_samples id lists
    per prompt. One branch per decoding strategy. stats: a dict the soft and power samplers write
    their counts into (summarised by decoder_summary)."""
    stats = {} if stats is None else stats
    if sampler != 'plain' and ckpt is not None and ckpt['config'].get('icot_keep_position', False):
        raise ValueError(f"sampler={sampler!r} decodes with consecutive positions; an iCoT checkpoint trained with "
                         f"icot_keep_position skips the removed tokens' positions: use the plain sampler")
    if sampler == 'plain':
        return method_decoder(model, tok, ckpt, max_new_tokens, temperature, top_k, top_p, num_samples, generator,
                              latent_budget)
    if sampler in ('base', 'lowtemp'):  # power sampling's baselines: p itself, and its proposal q = p^(1/T), T = 1/alpha
        temp = 1.0 if sampler == 'base' else 1.0 / alpha
        return lambda prompts: R.generate(model, tok, prompts, max_new_tokens, temp, 0, 1.0, num_samples, generator)
    if sampler == 'power':
        def decode(prompts):
            rows, counts = power_sampling.power_generate(model, tok, prompts, max_new_tokens, alpha, mcmc_block,
                                                         mcmc_steps, num_samples, generator)
            for key, v in counts.items():
                stats[key] = stats.get(key, 0) + v
            return rows
        return decode
    if sampler in ('soft_' + m for m in soft_thinking.SOFT_MODES):
        assert ckpt is not None, "soft thinking needs the checkpoint (its method says where thinking ends)"
        end_id = soft_thinking.think_end_id(tok, ckpt['config']['method'])
        def decode(prompts):
            gens = soft_thinking.row_generators(len(prompts) * num_samples, generator, model.embed.device)
            return soft_thinking.soft_generate(model, tok, prompts, end_id, sampler[len('soft_'):], max_new_tokens,
                                               think_budget, soft_temperature, soft_top_k, soft_top_p, soft_min_p,
                                               gamma, tau, cold_stop_entropy, cold_stop_steps, temperature,
                                               num_samples, gens, js_probe, stats)
        return decode
    raise ValueError(f"unknown sampler {sampler!r}")


def decoder_summary(stats):
    """What the sampler counted, for the JSON line: acceptance and token multiplier (power), soft
    steps and JS (soft thinking); nothing for the plain samplers."""
    if sampler == 'power':
        return power_sampling.power_summary(stats)
    return soft_thinking.soft_summary(stats) if sampler.startswith('soft_') and stats else {}


def plot_pass_at_k(curve, path, title):
    """PNG of pass@k vs k (log2 axis), only when matplotlib is installed."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot written to {path}")
        return
    ks = sorted(curve)
    plt.figure(figsize=(4, 3))
    plt.plot(ks, [curve[k] for k in ks], marker='o')
    plt.xscale('log', base=2)
    plt.xlabel('k')
    plt.ylabel('pass@k')
    plt.title(title, fontsize=8)
    plt.tight_layout()
    plt.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    validate(globals())
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    model, tok, ckpt = load_checkpoint(out_dir, device)
    if compile:
        model.compile_decode()
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device == 'cpu' else torch.autocast(device_type='cuda', dtype=ptdtype)
    cfg = ckpt['config']
    print(f"checkpoint {out_dir}: method {cfg['method']}, dataset {cfg['dataset']}, iter {ckpt['iter_num']}"
          + (f", stage {ckpt['stage']}: {R.inference_layout(cfg, ckpt['stage']).get('n_latent', 0)} thoughts"
             if cfg['method'] == 'coconut' else ''))
    decoding = {'plain': 'greedy' if temperature == 0 else f"temperature {temperature}, top_k {top_k}, top_p {top_p}",
                'base': 'base: temperature 1', 'lowtemp': f"low temperature 1/{alpha:g}",
                'power': f"power sampling: alpha {alpha:g}, blocks of {mcmc_block}, {mcmc_steps} MH steps each"}.get(sampler, sampler)
    if sampler.startswith('soft_'):
        decoding += (f": T {soft_temperature}, top_k {soft_top_k}, top_p {soft_top_p}, min_p {soft_min_p}"
                     + {'soft_dirichlet': f", gamma {gamma}", 'soft_gumbel': f", tau {tau}"}.get(sampler, '')
                     + f", answer {'greedy' if temperature == 0 else f'temperature {temperature}'}")
    stats = {}
    decode = make_decoder(model, tok, generator, ckpt, stats)
    if eval:
        examples = R.load_split(os.path.join('data', cfg['dataset']), eval, steps=False)
        examples = examples[:eval_limit] if eval_limit else examples
        unknown = R.unknown_words(tok, [ex['question'] for ex in examples])
        if unknown:  # a file of another task: scoring goes on, but the user should know
            print(f"warning: {eval} has words outside the vocabulary of dataset {cfg['dataset']!r}, read as <unk>: "
                  + ', '.join(map(repr, unknown[:20])) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else ''))
        print(f"scoring {len(examples)} examples of {eval}, {decoding}, {num_samples} sample(s) each")
        t0 = time.time()
        with ctx:
            res = evaluate(model, tok, ckpt, examples, batch_size, num_samples=num_samples, progress=True,
                           decode=decode)
        for ex, text in list(zip(examples, res['texts'][::num_samples]))[:3]:
            print(f"--- {ex['question']!r}\n{text!r} (gold: {ex['answer']!r})")
        summary = {k: v for k, v in res.items() if k not in ('correct', 'texts', 'pairs')}
        summary['think_tokens'] = round(sum(thinking_length(tok, t) for t in res['texts']) / len(res['texts']), 3)
        curve = pass_at_k(res['correct'], num_samples, pass_k)
        summary['pass@k'] = {str(k): round(v, 4) for k, v in curve.items()}
        summary.update(decoder_summary(stats))
        if score_under:  # the samples as the base model sees them
            base, _, _ = load_checkpoint(score_under, device)
            with ctx:
                lls, confs = score_samples(base, tok, res['pairs'], batch_size)
            summary.update(base_loglik=sum(lls) / len(lls), base_confidence=sum(confs) / len(confs))
        if probe and cfg['method'] == 'latent':  # mean N_eff over every latent; Top-2 score: per question, then mean
            probes = [latent_sft.probe_latents(model, tok, ckpt, ex['question'], budget=latent_budget) for ex in examples]
            n_effs = [n for steps in probes for _, n, _ in steps]
            top2s = [sum(t for _, _, t in steps) / len(steps) for steps in probes if steps]
            summary['n_eff'] = sum(n_effs) / max(len(n_effs), 1)
            summary['top2'] = sum(top2s) / max(len(top2s), 1)
        if thought_probes:
            probe_fn = latent_sft.latent_thought_probes if cfg['method'] == 'latent' else coconut.thought_probes
            probes = probe_fn(model, tok, ckpt, examples, batch_size, max_new_tokens)
            summary.update({k: v for k, v in probes.items() if k != 'accuracy'})
        summary.update(method=cfg['method'], split=eval, decoding=decoding, seconds=round(time.time() - t0, 2))
        if plot:
            plot_pass_at_k(curve, plot, f"{out_dir}, {decoding}")
        print(json.dumps(summary))
        return
    question = (open(start[5:]).read() if start.startswith('FILE:') else start).rstrip('\n')
    unknown = R.unknown_words(tok, [question])
    if unknown:  # they would silently become <unk>, a token the model never saw in training
        raise ValueError(f"start={question!r}: {', '.join(map(repr, unknown))} not in the vocabulary of dataset "
                         f"{cfg['dataset']!r}" + (f" (it knows: {' '.join(tok.words())})" if len(tok.words()) <= 60 else ''))
    prompt = R.question_prompt(tok, ckpt, question)
    if probe and cfg['method'] == 'latent':
        for j, (top, n_eff, top2) in enumerate(latent_sft.probe_latents(model, tok, ckpt, question, budget=latent_budget)):
            print(f"latent {j + 1}: N_eff {n_eff:.2f}, top-2 {top2:.2f}  " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    elif probe:
        for j, top in enumerate(coconut.probe_thoughts(model, tok, ckpt, question)):
            print(f"thought {j + 1}: " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    with ctx:
        outs = decode([prompt])
    for ids in outs:
        print(tok.decode(prompt) + tok.decode(ids))
        print('---------------')
    if stats:  # soft thinking (the trace above shows each soft step's top-1 token), power sampling
        print(json.dumps(decoder_summary(stats)))


if __name__ == '__main__':
    main()
