"""Vision Transformers (ViT-B/16, ViT-Tiny) and a BERT-base style encoder.

ViT follows torchvision's VisionTransformer layout (BSD-3-Clause; conv patch embedding, class
token, learned position embedding, pre-norm blocks with nn.MultiheadAttention, GELU MLP, final
LayerNorm, linear head), so ViT-B/16 has torchvision's 86,567,656 parameters. ViT-Tiny is the
same network at width 192, 3 heads (Touvron et al., DeiT-Ti, 2021). BERT follows Devlin et al.
2019 / the Hugging Face `BertModel` layout (word, position and token-type embeddings, post-norm
blocks, tanh pooler) plus a linear classifier; its input is a sequence of token ids, given as
numbers (the workload's input tensor) and cast to integers inside, so any sequence length up to
512 is one `input_shape: [seq_len]`.

Written for torch.fx: heads are split with unflatten/transpose and merged with flatten, never
with the batch size, so every block boundary is a valid cut.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _w(n: int, width: float, multiple: int = 1) -> int:
    return max(multiple, int(round(n * width / multiple)) * multiple)


class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    def __init__(self, shape: tuple[int, ...], num_classes: int, patch: int, dim: int,
                 depth: int, heads: int, mlp: int) -> None:
        super().__init__()
        c, h, w = shape
        if h % patch or w % patch:
            raise ValueError(f"ViT input {h}x{w} must be a multiple of the {patch}-pixel patch")
        tokens = (h // patch) * (w // patch) + 1
        self.conv_proj = nn.Conv2d(c, dim, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, dim).normal_(std=0.02))
        self.layers = nn.Sequential(*(ViTBlock(dim, heads, mlp) for _ in range(depth)))
        self.ln = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.layers(x + self.pos_embedding)
        return self.head(self.ln(x)[:, 0])


def vit_b16(shape, num_classes, width):
    return VisionTransformer(shape, num_classes, 16, _w(768, width, 12), 12, 12,
                             _w(3072, width, 12))


def vit_tiny(shape, num_classes, width):
    return VisionTransformer(shape, num_classes, 16, _w(192, width, 3), 12, 3, _w(768, width, 3))


class BertLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        self.attention_output = nn.Linear(dim, dim)
        self.attention_norm = nn.LayerNorm(dim, eps=1e-12)
        self.intermediate = nn.Linear(dim, ffn)
        self.output = nn.Linear(ffn, dim)
        self.output_norm = nn.LayerNorm(dim, eps=1e-12)

    def _heads(self, x):
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(self, x):
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        context = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        x = self.attention_norm(x + self.attention_output(context))
        return self.output_norm(x + self.output(F.gelu(self.intermediate(x))))


class BertEncoder(nn.Module):
    def __init__(self, seq_len: int, num_classes: int, dim: int = 768, depth: int = 12,
                 heads: int = 12, ffn: int = 3072, vocab: int = 30522,
                 max_positions: int = 512) -> None:
        super().__init__()
        if not 1 <= seq_len <= max_positions:
            raise ValueError(f"BERT sequence length must be 1..{max_positions}, got {seq_len}")
        self.seq_len = seq_len
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(max_positions, dim)
        self.token_type_embeddings = nn.Embedding(2, dim)
        self.embedding_norm = nn.LayerNorm(dim, eps=1e-12)
        self.layers = nn.Sequential(*(BertLayer(dim, heads, ffn) for _ in range(depth)))
        self.pooler = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, token_ids):
        # Positions 0..L-1 and token type 0 for every token (a single segment).
        positions = self.position_embeddings.weight[: self.seq_len]
        segment = self.token_type_embeddings.weight[0]
        x = self.word_embeddings(token_ids.long()) + positions + segment
        x = self.layers(self.embedding_norm(x))
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def bert_base(shape, num_classes, width):
    dim, ffn = _w(768, width, 12), _w(3072, width, 12)
    return BertEncoder(shape[0], num_classes, dim, 12, 12, ffn)
