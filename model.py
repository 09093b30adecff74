"""
GPT-2 in one file, with a KV cache. Knows nothing about reasoning methods: it maps token ids (or input
embeddings, for continuous thoughts and soft tokens) to logits, and optionally to the hidden states of
every layer. Same module names as HF GPT-2, so pretrained weights load by name.
References: OpenAI's GPT-2 TF code, HF transformers' modeling_gpt2.py, nanoGPT.
Longer than nanoGPT's model.py because the KV cache lives here (about 100 lines: preallocated for
decoding, growing for thought passes, with the crop, shift, select and copy the samplers need), with
the static-shape decode step, loading HF weights from local files, and the MFU / MBU estimates.
"""
import json
import math
import os
import inspect
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    block_size: int = 1024   # longest sequence (learned position embeddings)
    vocab_size: int = 50304  # GPT-2's 50257 padded to a multiple of 64; method tokens live in the padding rows
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True        # GPT-2 has biases in Linears and LayerNorms


class KVCache:
    """Keys and values of every layer for B rows, plus which key positions are real (not padding).
    Two modes: preallocated (max_len given; decoding, written in place, no autograd) and growing
    (max_len=None; each chunk is concatenated, so gradients flow through the cache, as Coconut's
    and CODI's thought passes need). All rows share one length: left padding keeps them aligned."""

    def __init__(self, config, batch_size, max_len=None, device='cpu', dtype=torch.float32):
        self.n_layer, self.max_len, self.length = config.n_layer, max_len, 0
        if max_len is None:
            self.k, self.v = [None] * config.n_layer, [None] * config.n_layer
            self.valid = torch.zeros(batch_size, 0, dtype=torch.bool, device=device)
        else:
            assert max_len <= config.block_size, f"cache of {max_len} positions > block_size {config.block_size}"
            shape = (batch_size, config.n_head, max_len, config.n_embd // config.n_head)
            self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
            self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
            self.valid = torch.zeros(batch_size, max_len, dtype=torch.bool, device=device)
            self.positions = torch.arange(max_len, device=device)  # decode_step's position t is a view of one
        self.padded = False  # True once any padding was written: then every step needs a mask
        self.pos_shift = 0  # added to the position id of every position written from now on (iCoT's
                            # keep_position: the answer sits where it sat before the CoT was removed); an int,
                            # or (B, 1) per row (Coconut's keep_position, rows with different thought counts)

    def update(self, layer, k, v):
        """Store this chunk's (B, nh, T, hs) keys/values for `layer`; return all keys/values so far."""
        start, T = self.length, k.size(2)
        if self.max_len is None:
            self.k[layer] = k if start == 0 else torch.cat([self.k[layer][:, :, :start], k], dim=2)
            self.v[layer] = v if start == 0 else torch.cat([self.v[layer][:, :, :start], v], dim=2)
            return self.k[layer], self.v[layer]
        assert start + T <= self.max_len, f"KV cache full: {start} + {T} > {self.max_len} positions"
        self.k[layer][:, :, start:start + T] = k
        self.v[layer][:, :, start:start + T] = v
        return self.k[layer][:, :, :start + T], self.v[layer][:, :, :start + T]

    def append_valid(self, valid):
        """valid: (B, T) bool for the chunk being added. Called once per forward, before the layers."""
        start, T = self.length, valid.size(1)
        if self.max_len is None:
            self.valid = torch.cat([self.valid[:, :start], valid], dim=1)
        else:
            self.valid[:, start:start + T] = valid

    def write_at(self, layer, k, v, t):
        """Static-shape write of one position (decode_step): t is a 0-d LongTensor, so a compiled
        step never sees a Python int that changes. Returns the whole (B, nh, max_len, hs) buffers."""
        self.k[layer].index_copy_(2, t.view(1), k)
        self.v[layer].index_copy_(2, t.view(1), v)
        return self.k[layer], self.v[layer]

    def crop(self, length):
        """Forget every position from `length` on (power sampling rolls back to a resample point)."""
        assert 0 <= length <= self.length
        self.length = length

    def select(self, idx):
        """Keep/reorder/duplicate rows: idx is a (B',) LongTensor of row indices."""
        self.k = [k[idx] if k is not None else None for k in self.k]
        self.v = [v[idx] if v is not None else None for v in self.v]
        self.valid = self.valid[idx]
        if torch.is_tensor(self.pos_shift):
            self.pos_shift = self.pos_shift[idx]

    def repeat(self, n):
        """Each row n times in a row (n samples per prompt after one prefill): row b -> rows b*n..b*n+n-1."""
        self.select(torch.arange(self.valid.size(0), device=self.valid.device).repeat_interleave(n))

    def shift(self, rows, d, src=None):
        """Per-row crop that keeps rows aligned to the end, as left padding does: rows[i] takes the
        content of rows[i] of src (default: this cache) moved d[i] columns right, so with d[i] > 0 its
        last d[i] positions are forgotten and d[i] padding columns open on its left (d[i] < 0 moves
        left: the first columns must be padding). Positions are counted over valid keys, so what stays
        is exact. Power sampling rolls each chain back to its own resample point with it, and restores
        a rejected chain from a copy of its cache (src) taken before the proposal."""
        assert self.max_len is not None and rows.shape == d.shape
        src, L = self if src is None else src, self.length
        col = torch.arange(L, device=d.device) - d[:, None]  # (n, L) the source column of each column
        idx = col.clamp(0, src.max_len - 1)
        for buf, sbuf in zip(self.k + self.v, src.k + src.v):
            buf[rows, :, :L] = sbuf[rows[:, None], :, idx].transpose(1, 2)  # (n, L, nh, hs) -> (n, nh, L, hs)
        self.valid[rows, :L] = src.valid[rows[:, None], idx] & (col >= 0) & (col < src.max_len)
        self.padded = True

    def copy_rows(self, rows, src):
        """rows of cache src -> the same rows of this one (src's first `length` columns)."""
        L = self.length = src.length
        for buf, sbuf in zip(self.k + self.v, src.k + src.v):
            buf[rows, :, :L] = sbuf[rows, :, :L]
        self.valid[rows, :L] = src.valid[rows, :L]

    def drop_front(self, n):
        """Forget the first n columns of every row (padding, in every row still in use) to make room
        at the end: every row moves n columns left."""
        assert self.max_len is not None and 0 <= n <= self.length
        L = self.length
        for buf in self.k + self.v:
            buf[:, :, :L - n] = buf[:, :, n:L].clone()
        self.valid[:, :L - n] = self.valid[:, n:L].clone()
        self.length = L - n


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0, f"n_embd {config.n_embd} is not a multiple of n_head {config.n_head}"
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

    def forward(self, x, mask, cache, layer, t=None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        if t is not None:
            k, v = cache.write_at(layer, k, v, t)  # (B, nh, max_len, hs); the mask hides what is not written yet
        elif cache is not None:
            k, v = cache.update(layer, k, v)  # (B, nh, L+T, hs)
        # mask None means plain causal attention over this chunk alone, or a 1-token step over an
        # unpadded cache (attend to everything). SDPA's is_causal is top-left aligned, which is wrong
        # for a chunk after a cache: those cases get an explicit mask from GPT.attention_mask.
        is_causal = mask is None and cache is None and T > 1
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate='tanh')  # GPT-2's GELU; the exact one differs by ~5e-4
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, mask, cache, layer, t=None):
        x = x + self.attn(self.ln_1(x), mask, cache, layer, t)
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as GPT-2
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():  # GPT-2: residual projections scaled by 1/sqrt(2 * n_layer)
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        for m in self.modules():  # after the init, which draws in memory order: same values as ever
            if isinstance(m, nn.Linear):
                m.weight = in_out_layout(m.weight)
        self.transformer.wte.weight = self.lm_head.weight  # tie again: the head has a new Parameter

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def get_num_params(self, non_embedding=True):
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    @property
    def embed(self):
        """The input embedding matrix E (V, C): soft tokens and latents are mixtures of its rows."""
        return self.transformer.wte.weight

    @staticmethod
    def attention_mask(valid, T, start):
        """(B, 1, T, L) bool mask for T queries at positions start..start+T-1 over L = start+T keys:
        causal, and no real query sees a padding key. Each query always sees itself, so a padding
        query never has an empty row (SDPA would return NaN); its output is garbage and ignored."""
        L = start + T
        q_pos = torch.arange(start, L, device=valid.device).view(T, 1)
        k_pos = torch.arange(L, device=valid.device).view(1, L)
        causal = k_pos <= q_pos  # (T, L)
        mask = causal & (valid[:, None, :] | (k_pos == q_pos))  # (B, T, L)
        return mask[:, None]  # (B, 1, T, L)

    def forward(self, idx=None, targets=None, embeds=None, valid=None, pos=None, cache=None,
                last_only=False, hidden=False, attn_mask=None):
        """idx (B, T) token ids, or embeds (B, T, C) input embeddings. valid (B, T) bool: False at
        left padding. pos (B, T) position ids; by default they count real tokens only, so a left-padded
        row starts at 0 on its first real token. cache: a KVCache this chunk is appended to.
        attn_mask (B, T, L) bool, L = cached + T keys: True where a query may attend to a key. When
        given it replaces the causal/padding mask entirely (methods with their own attention patterns
        build it); every query must see at least one key, or SDPA returns NaN for that row.
        Returns (logits, loss), or (logits, loss, hiddens) with hidden=True, where hiddens holds the
        n_layer+1 states as HF reports them: embedding output, each block's output, the last after ln_f.
        last_only: logits of the last position only (decoding), (B, 1, V)."""
        x = self.transformer.wte(idx) if embeds is None else embeds  # (B, T, C)
        B, T, _ = x.size()
        start = cache.length if cache is not None else 0
        assert start + T <= self.config.block_size, \
            f"sequence of {start + T} positions is longer than block_size {self.config.block_size}"
        padded = valid is not None and not bool(valid.all())  # no host sync when the caller has no padding
        if valid is None:
            valid = torch.ones(B, T, dtype=torch.bool, device=x.device)
        past_real = 0
        if cache is not None:
            past_real = cache.valid[:, :start].sum(1, keepdim=True)  # (B, 1) real tokens already cached
            cache.append_valid(valid)
            cache.padded = padded = cache.padded or padded
        if pos is None:
            pos = (past_real + valid.long().cumsum(1) - 1).clamp(min=0)  # (B, T)
            if cache is not None:
                pos = pos + cache.pos_shift
        mask = None
        if attn_mask is not None:
            assert attn_mask.shape == (B, T, start + T), f"attn_mask {tuple(attn_mask.shape)} != {(B, T, start + T)}"
            mask = attn_mask[:, None]  # (B, 1, T, L): the same pattern for every head
        elif padded or (cache is not None and T > 1):
            all_valid = cache.valid[:, :start + T] if cache is not None else valid
            mask = self.attention_mask(all_valid, T, start)
        x = self.transformer.drop(x + self.transformer.wpe(pos))
        hiddens = [x]
        for layer, block in enumerate(self.transformer.h):
            x = block(x, mask, cache, layer)
            hiddens.append(x)
        x = self.transformer.ln_f(x)
        hiddens[-1] = x  # HF convention: the last hidden state is after ln_f
        if cache is not None:
            cache.length = start + T
        if targets is not None:
            logits = self.lm_head(x)  # (B, T, V)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :] if last_only else x)
            loss = None
        return (logits, loss, hiddens) if hidden else (logits, loss)

    def decode_step(self, cache, idx=None, embeds=None, valid=None):
        """One new position per row on a preallocated cache: idx (B, 1) ids or embeds (B, 1, C).
        valid (B, 1) bool, default all True: False makes a row's position padding that no later query
        attends to (rows that stopped: power sampling's finished chains, Latent-SFT's stopped latents).
        Returns logits (B, V). Every tensor has the same shape at every step (the position is a 0-d
        tensor; attention runs over the whole buffer, masked), so `model.compile_decode()` builds
        one graph for a whole decode: no recompilation per step."""
        assert cache.max_len is not None, "decode_step needs a preallocated cache"
        assert cache.length < cache.max_len, f"KV cache full: {cache.max_len} positions"
        B = cache.valid.size(0)
        t = cache.positions[cache.length]  # 0-d view of a tensor already on the device: no copy, no sync
        if valid is None:
            valid = torch.ones(B, 1, dtype=torch.bool, device=t.device)
        else:
            cache.padded = True
        logits = self.decode_core(idx, embeds, cache, t, valid)
        cache.length += 1  # Python-side bookkeeping stays outside the (compiled) core
        return logits

    def decode_core(self, idx, embeds, cache, t, valid):
        x = self.transformer.wte(idx) if embeds is None else embeds  # (B, 1, C)
        cache.valid.index_copy_(1, t.view(1), valid)
        k_pos = torch.arange(cache.max_len, device=t.device)
        seen = cache.valid & (k_pos <= t)  # (B, max_len) real keys so far, this one included if valid
        pos = (seen.sum(1, keepdim=True) - 1).clamp(min=0) + cache.pos_shift  # (B, 1) as the eager forward counts
        x = self.transformer.drop(x + self.transformer.wpe(pos))
        mask = (seen | (k_pos == t))[:, None, None, :]  # (B, 1, 1, max_len); a query always sees itself
        for layer, block in enumerate(self.transformer.h):
            x = block(x, mask, cache, layer, t)
        return self.lm_head(self.transformer.ln_f(x))[:, -1]  # (B, V)

    def compile_decode(self):
        """torch.compile the single-token step (prefill stays eager: its shapes vary per batch)."""
        self.decode_core = torch.compile(self.decode_core, fullgraph=True)

    def new_cache(self, batch_size, max_len=None, dtype=None):
        """A KVCache on this model's device; preallocated when max_len is given."""
        p = self.lm_head.weight
        return KVCache(self.config, batch_size, max_len, p.device, dtype or p.dtype)

    @classmethod
    def from_pretrained(cls, name_or_dir, vocab_size=50304, dropout=0.0):
        """HF GPT-2 weights from a local directory (config.json + model.safetensors or pytorch_model.bin)
        or by hub name (gpt2, gpt2-medium, gpt2-large, gpt2-xl) through huggingface_hub. The vocab is
        padded to vocab_size rows; the extra rows keep their fresh init (our special tokens live there).
        Peak memory is the model plus one tensor: the weights file is memory-mapped (safetensors) and
        each tensor is copied into place, then dropped."""
        d = name_or_dir if os.path.isdir(name_or_dir) else download_hf_gpt2(name_or_dir)
        with open(os.path.join(d, 'config.json')) as f:
            hf = json.load(f)
        config = GPTConfig(block_size=hf['n_positions'], vocab_size=vocab_size, n_layer=hf['n_layer'],
                           n_head=hf['n_head'], n_embd=hf['n_embd'], dropout=dropout, bias=True)
        assert vocab_size >= hf['vocab_size'], f"vocab_size {vocab_size} < pretrained {hf['vocab_size']}"
        print(f"loading GPT-2 weights from {d}: {config}")
        model = cls(config)
        sd = model.state_dict()  # views of the parameters: copying into them loads the model
        # HF stores these as Conv1D, i.e. (in, out): transpose them into nn.Linear's (out, in)
        transposed = ('attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight')
        loaded = set()
        for k, w in hf_tensors(d):
            k = k.removeprefix('transformer.')
            if k.endswith(('.attn.bias', '.attn.masked_bias')) or k == 'lm_head.weight':
                continue  # causal-mask buffers (not c_attn.bias!), and the head that is tied to wte anyway
            ours = k if k.startswith('lm_head') else 'transformer.' + k
            assert ours in sd, f"unexpected key {k} in the pretrained weights"
            w = w.t() if k.endswith(transposed) else w
            if k == 'wte.weight':
                sd[ours][:w.size(0)].copy_(w)  # rows past 50257 keep their init: our special tokens
            else:
                assert sd[ours].shape == w.shape, f"{k}: {tuple(w.shape)} vs ours {tuple(sd[ours].shape)}"
                sd[ours].copy_(w)  # copy_ also converts a float16 / bfloat16 file to our float32
            loaded.add(ours)
        missing = set(sd) - loaded - {'lm_head.weight'}
        assert not missing, f"{d}: the pretrained weights lack {', '.join(sorted(missing)[:5])}"
        return model

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        # decay matrices and embeddings, not biases and LayerNorm gains (nanoGPT's rule: dim >= 2)
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
        fused = 'fused' in inspect.signature(torch.optim.AdamW).parameters and device_type == 'cuda'
        print(f"AdamW: {sum(p.numel() for p in decay):,} decayed, {sum(p.numel() for p in no_decay):,} not decayed, fused={fused}")
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=fused)

    def flops_per_token(self, T):
        """6N for the matmuls of forward+backward, plus attention (PaLM appendix B), as nanoGPT."""
        cfg = self.config
        return 6 * self.get_num_params() + 12 * cfg.n_layer * cfg.n_embd * T

    def estimate_mfu(self, tokens_per_s, T, device):
        """Model FLOPs utilisation against the bf16 dense peak of the device in use; None if unknown."""
        peak = peak_flops(device)
        return None if peak is None else self.flops_per_token(T) * tokens_per_s / peak

    def decode_bytes(self, batch, cache_len, dtype_bytes):
        """Bytes one single-token decode step must read from memory at the least: every weight once
        (the tied wte as the head; the embedding lookups read a row each, not counted) and the keys and
        values of cache_len positions of each of the batch rows, in every layer."""
        kv = 2 * self.config.n_layer * batch * cache_len * self.config.n_embd
        return (self.get_num_params() + kv) * dtype_bytes

    def estimate_mbu(self, steps_per_s, batch, cache_len, dtype_bytes, device):
        """Memory-bandwidth utilisation of decoding: the bytes a step must read, times steps per
        second, against the device's peak bandwidth; None if unknown. Decoding at small batch is bound
        by memory, not FLOPs, so this (not MFU) says how close to the hardware it runs."""
        peak = peak_bandwidth(device)
        return None if peak is None else self.decode_bytes(batch, cache_len, dtype_bytes) * steps_per_s / peak


def in_out_layout(w):
    """The same (out, in) weight, stored as a contiguous (in, out) matrix (HF Conv1D's layout) and
    viewed back as (out, in): values, shape, state dict and checkpoints do not change, only strides.
    Why: decoding at batch 1 is a matrix-vector product per weight, bound by reading the weights, and
    F.linear(x, w) computes x @ w.t(), which is then a plain row-major (in, out) matrix. MKL reads that
    one about 1.5x faster for the LM head and 1.15x for the blocks than nn.Linear's own (out, in)
    (bench.py, 2-core CPU); on GPUs either layout is fine. The tied embedding reads a strided row per
    token, which costs nothing next to the head."""
    return nn.Parameter(w.detach().t().contiguous().t(), requires_grad=w.requires_grad)


def peak_flops(device):
    """bf16 dense peak FLOP/s of the GPU we run on (vendor datasheets); None on CPU or unknown GPUs."""
    return gpu_spec(device, {'H200': 989e12, 'H100 PCIe': 756e12, 'H100': 989e12, 'A100': 312e12, 'L40S': 362e12,
                             'A10G': 125e12, 'RTX 4090': 165e12, 'RTX 3090': 71e12, 'V100': 125e12})


def peak_bandwidth(device):
    """Peak memory bandwidth (bytes/s) of the GPU we run on (vendor datasheets); None on CPU or unknown
    GPUs."""
    return gpu_spec(device, {'H200': 4.8e12, 'H100 PCIe': 2.0e12, 'H100 NVL': 3.9e12, 'H100': 3.35e12,
                             'A100-SXM4-80GB': 2.039e12, 'A100 80GB PCIe': 1.935e12, 'A100': 1.555e12,
                             'L40S': 0.864e12, 'A10G': 0.6e12, 'RTX 4090': 1.008e12, 'RTX 3090': 0.936e12,
                             'V100': 0.9e12})


def gpu_spec(device, table):
    """The table's value for the GPU in use: the first key found in its name wins (so specific names
    come first); None on CPU or for a GPU the table does not know."""
    if not str(device).startswith('cuda') or not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(device)
    return next((value for key, value in table.items() if key in name), None)


def hf_tensors(d):
    """(name, tensor) of an HF checkpoint directory, one tensor at a time: model.safetensors through
    the safetensors package (memory-mapped: a tensor is read when asked for), or pytorch_model.bin
    (torch.load with mmap). Imported here, so that training from scratch needs no safetensors."""
    path = os.path.join(d, 'model.safetensors')
    if os.path.exists(path):
        from safetensors import safe_open
        with safe_open(path, framework='pt') as f:
            keys = list(f.keys())
        for k in keys:  # one mapping per tensor: the pages read through a mapping count as this process's
            with safe_open(path, framework='pt') as f:  # memory until it closes (one for all: the whole file)
                yield k, f.get_tensor(k)
        return
    path = os.path.join(d, 'pytorch_model.bin')
    if os.path.exists(path):
        yield from torch.load(path, map_location='cpu', weights_only=True, mmap=True).items()
        return
    raise FileNotFoundError(f"{d} holds neither model.safetensors nor pytorch_model.bin")


GPT2_REPOS = {name: f'openai-community/{name}' for name in ('gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl')}


def download_hf_gpt2(name):
    """The local snapshot directory of an HF hub GPT-2 (config.json and model.safetensors), through
    huggingface_hub: the HF cache shared with transformers (HF_HOME, default ~/.cache/huggingface),
    interrupted downloads resume, and HF_HUB_OFFLINE=1 reads the cache without the network."""
    if name not in GPT2_REPOS:
        raise ValueError(f"{name!r} is neither a directory nor a GPT-2 hub name ({', '.join(GPT2_REPOS)})")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ImportError(f"loading {name!r} by hub name needs huggingface_hub (pip install huggingface_hub), "
                          "or pass a local directory with config.json and model.safetensors") from None
    try:
        for fname in ('config.json', 'model.safetensors'):
            path = hf_hub_download(GPT2_REPOS[name], fname)
    except Exception as e:  # offline and not cached, no network, a proxy: all of them end here
        raise RuntimeError(f"could not fetch {fname} of {GPT2_REPOS[name]} ({type(e).__name__}: {e}). Offline "
                           "(HF_HUB_OFFLINE=1) it must be in the HF cache already; or pass a local directory") from e
    return os.path.dirname(path)
