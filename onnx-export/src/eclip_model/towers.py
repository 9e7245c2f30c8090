"""Encoder towers: a Vision Transformer, a small ResNet and a text transformer.

Each tower maps its input to a feature vector (`feature_dim`); projection to the shared embedding and
L2 normalisation belong to `eclip_model.clip`. Attention is written out (not `nn.TransformerEncoder`)
so the same code trains, exports to ONNX with a dynamic batch axis, and accepts an attention mask.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ImageTowerConfig, TextTowerConfig


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.heads))
        if bias is not None:  # additive mask, broadcast over heads and queries: [b, 1, 1, n]
            scores = scores + bias
        attn = scores.softmax(dim=-1)
        return self.out((attn @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, width: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.norm1 = nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """ViT: patch embedding, class token, learned positions, pre-norm blocks; returns the class token."""

    def __init__(self, cfg: ImageTowerConfig) -> None:
        super().__init__()
        n = (cfg.size // cfg.patch) ** 2
        self.patch_embed = nn.Conv2d(cfg.channels, cfg.width, cfg.patch, cfg.patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, cfg.width) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.width)
        self.feature_dim = cfg.width

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.norm(x[:, 0])


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class ResNet(nn.Module):
    """Small ResNet: strided stem, one stage per width (each halves the resolution), global average pool."""

    def __init__(self, cfg: ImageTowerConfig) -> None:
        super().__init__()
        widths, blocks = cfg.stage_widths, cfg.stage_blocks
        if len(widths) != len(blocks) or not widths:
            raise ValueError("resnet stage_widths and stage_blocks must be non-empty and of equal length")
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.channels, widths[0], 5, 2, 2, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        layers: list[nn.Module] = []
        cin = widths[0]
        for w, nb in zip(widths, blocks, strict=True):
            for i in range(nb):
                layers.append(BasicBlock(cin, w, 2 if i == 0 else 1))
                cin = w
        self.stages = nn.Sequential(*layers)
        self.feature_dim = widths[-1]

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(pixels)).mean(dim=(2, 3))


class TextTransformer(nn.Module):
    """Bidirectional text transformer over token ids with a padding mask; masked mean pooling."""

    def __init__(self, cfg: TextTowerConfig, vocab_size: int) -> None:
        super().__init__()
        self.token_embed = nn.Embedding(vocab_size, cfg.width)
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.context_length, cfg.width) * 0.01)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.width)
        self.feature_dim = cfg.width
        nn.init.normal_(self.token_embed.weight, std=0.02)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        x = self.token_embed(input_ids) + self.pos_embed[:, :n]
        keep = attention_mask.to(x.dtype)
        bias = ((1.0 - keep) * -1e4)[:, None, None, :]
        for block in self.blocks:
            x = block(x, bias)
        x = self.norm(x)
        weights = keep[:, :, None]
        return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def build_image_tower(cfg: ImageTowerConfig) -> nn.Module:
    return VisionTransformer(cfg) if cfg.kind == "vit" else ResNet(cfg)
