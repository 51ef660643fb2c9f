"""An example user model: a tiny Vision Transformer for 16 x 16 grey images (digits).

Use it as `workload.model: examples/tiny_vit.py:make_model` (relative to the config's folder)
or `sim profile examples/tiny_vit.py:make_model`. It is written the way people write models,
not for the simulator: `x.shape` arithmetic in forward, nn.MultiheadAttention (a tuple
output), an explicit attention block with F.scaled_dot_product_attention, LayerNorm, GELU and
a class token. INPUT_SHAPE and NUM_CLASSES are the defaults when a config gives none.
"""
import torch
import torch.nn.functional as F
from torch import nn

INPUT_SHAPE = (1, 16, 16)
NUM_CLASSES = 10


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, torch_attention: bool) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.torch_attention = torch_attention
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True) if torch_attention \
            else Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        y = self.norm1(x)
        if self.torch_attention:
            y, _ = self.attn(y, y, y)
        else:
            y = self.attn(y)
        x = x + y
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    def __init__(self, in_channels: int, size: int, num_classes: int, dim: int = 32,
                 patch: int = 4) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(in_channels, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(Block(dim, 2, torch_attention=True),
                                    Block(dim, 2, torch_attention=False))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        B = x.shape[0]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1) + self.pos_embed
        x = self.blocks(x)
        return self.head(self.norm(x)[:, 0])


def make_model(input_shape, num_classes):
    channels, height, width = input_shape
    if height != width or height % 4:
        raise ValueError(f"TinyViT needs a square input with a side divisible by 4, "
                         f"got {list(input_shape)}")
    return TinyViT(channels, height, num_classes)
