"""Tokenizers: round trips with special tokens, ids that never collide, BPE with the network off."""
import socket


import reasoning as R


def test_word_tokenizer_round_trip():
    tok = R.WordTokenizer(['3', '5', 'is', 'a'])
    text = '3 5 is\n### 5'
    assert tok.decode(tok.encode(text)) == text
    ids = [tok.id(t) for t in R.SPECIALS]
    assert len(set(ids)) == len(ids) == len(R.SPECIALS)
    assert tok.decode([tok.id(R.BOT), tok.id(R.EOT)]) == '<bot> <eot>'
    assert tok.encode('never seen') == [tok.id('<unk>')] * 2


def test_bpe_offline_and_specials(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError('network is off in this test')
    monkeypatch.setattr(socket, 'create_connection', no_network)
    monkeypatch.setattr(socket.socket, 'connect', no_network)
    tok = R.BPETokenizer()
    assert tok.encode('Hello world') == [15496, 995]  # GPT-2's own ids
    text = 'Every wumpus is a yerpus.\n### 1,234'
    assert tok.decode(tok.encode(text)) == text
    ids = [tok.id(t) for t in R.SPECIALS]
    assert ids == [50256, 50257, 50258, 50259, 50260, 50261]
    assert tok.decode(ids) == ''.join(R.SPECIALS)
    assert tok.encode('<bot>') != [tok.id(R.BOT)]  # text never turns into a special token
    assert tok.n_vocab <= 50304


def test_layouts():
    tok = R.WordTokenizer(['1', '2', '3', '4'])
    parts = R.encode_parts(tok, {'question': '1 2', 'steps': ['3', '4'], 'answer': '4'})
    d = lambda ids: tok.decode(ids)
    p, t = R.layout(tok, parts, 'cot')
    assert (d(p), d(t)) == ('1 2\n', '3\n4\n### 4 <|endoftext|>')
    p, t = R.layout(tok, parts, 'nocot')
    assert (d(p), d(t)) == ('1 2\n', '### 4 <|endoftext|>')
    p, t = R.layout(tok, parts, 'pause', n_pause=2)
    assert (d(p), d(t)) == ('1 2\n<pause> <pause>', '### 4 <|endoftext|>')
    p, t = R.layout(tok, parts, 'coconut', n_steps=1, n_latent=2)
    assert (d(p), d(t)) == ('1 2\n<bot> <latent> <latent> <eot>', '4\n### 4 <|endoftext|>')


def test_scoring():
    ex = {'answer': '1,234'}
    assert R.is_correct('3\n### 1234 <|endoftext|>', ex)
    assert R.is_correct('### 1,234', ex)
    assert not R.is_correct('### 123', ex)
    assert not R.is_correct('no marker 1234', ex)
