"""SimVP's gSTA translator (SimVPv2, OpenSTL's default SimVP): a MetaFormer of gated spatial
attention blocks, after OpenSTL's ``MidMetaNet``, ``MetaBlock`` and ``GASubBlock``
(``openstl/models/simvp_model.py``, ``openstl/modules/simvp_modules.py``, ``layers/van.py``).

    (B, C_in, H', W') -> MetaBlock(C_in -> hid) -> (N_T - 2) x MetaBlock(hid -> hid)
      -> MetaBlock(hid -> C_in) -> (B, C_in, H', W')

A MetaBlock is a GASubBlock over its input channels, then a 1 x 1 ``reduction`` conv when its
output channels differ. A GASubBlock of ``dim`` channels (x + s1 * attn(BN(x)), then
x + s2 * mlp(BN(x)); per-channel layer scales s1, s2 start at 1e-2):

- attention: 1 x 1 conv, GELU, the gating unit (depthwise 5 x 5 conv, depthwise 7 x 7 conv of
  dilation 3 - a 21 x 21 receptive field by large-kernel decomposition - then a 1 x 1 conv to
  2 dim channels split into f and g: sigmoid(g) * f), 1 x 1 conv, plus its input;
- MLP: 1 x 1 conv to ``8 dim`` channels (OpenSTL's SimVP ``mlp_ratio``), depthwise 3 x 3 conv,
  GELU, 1 x 1 conv back to dim.

Left out: stochastic depth (OpenSTL draws drop-path rates from 0.01 down to its ``drop_path``,
0 in its SimVP configs: at most 1 % here, and no parameters) and dropout (rate 0 there).
"""

from __future__ import annotations

import math

import torch
from torch import nn

MLP_RATIO = 8.0  # SimVP_Model's mlp_ratio
KERNEL = 21  # GASubBlock's kernel_size: decomposed into 5 x 5 and 7 x 7 dilated by 3
LAYER_SCALE = 1e-2  # GASubBlock's init_value


class AttentionModule(nn.Module):
    """Large-kernel gating: (B, dim, H, W) -> sigmoid(g) * f, (B, dim, H, W)."""

    def __init__(self, dim: int, kernel_size: int = KERNEL, dilation: int = 3):
        super().__init__()
        d_k = 2 * dilation - 1
        dd_k = kernel_size // dilation + ((kernel_size // dilation) % 2 - 1)
        self.conv0 = nn.Conv2d(dim, dim, d_k, padding=(d_k - 1) // 2, groups=dim)
        self.conv_spatial = nn.Conv2d(
            dim, dim, dd_k, padding=dilation * (dd_k - 1) // 2, groups=dim, dilation=dilation
        )
        self.conv1 = nn.Conv2d(dim, 2 * dim, 1)

    def forward(self, x):
        f, g = torch.chunk(self.conv1(self.conv_spatial(self.conv0(x))), 2, dim=1)
        return torch.sigmoid(g) * f


class SpatialAttention(nn.Module):
    """1 x 1 conv, GELU, gating, 1 x 1 conv, plus the input: (B, dim, H, W) -> same."""

    def __init__(self, dim: int, kernel_size: int = KERNEL):
        super().__init__()
        self.proj_1 = nn.Conv2d(dim, dim, 1)
        self.activation = nn.GELU()
        self.spatial_gating_unit = AttentionModule(dim, kernel_size)
        self.proj_2 = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        return self.proj_2(self.spatial_gating_unit(self.activation(self.proj_1(x)))) + x


class MixMlp(nn.Module):
    """1 x 1 conv to ``hidden``, depthwise 3 x 3 conv, GELU, 1 x 1 conv: (B, dim, H, W) -> same."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        return self.fc2(self.act(self.dwconv(self.fc1(x))))


class GASubBlock(nn.Module):
    """The gSTA block: (B, dim, H, W) -> (B, dim, H, W).

    Parameters: ``4 dim^2 + 2 dim h + 11 h + 87 dim`` with ``h = int(8 dim)`` (two BatchNorms
    of 2 dim, attention 4 dim^2 + 80 dim, MLP 2 dim h + 11 h + dim, two layer scales of dim).
    """

    def __init__(self, dim: int, kernel_size: int = KERNEL, mlp_ratio: float = MLP_RATIO):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.attn = SpatialAttention(dim, kernel_size)
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = MixMlp(dim, int(dim * mlp_ratio))
        self.layer_scale_1 = nn.Parameter(LAYER_SCALE * torch.ones(dim))
        self.layer_scale_2 = nn.Parameter(LAYER_SCALE * torch.ones(dim))

    def init_openstl(self) -> None:
        """OpenSTL's ``GASubBlock._init_weights``: every conv ~ N(0, 2 / fan_out) with
        fan_out = k_h k_w C_out / groups, zero biases (BatchNorms and scales as built)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = x + self.layer_scale_1[:, None, None] * self.attn(self.norm1(x))
        return x + self.layer_scale_2[:, None, None] * self.mlp(self.norm2(x))


class MetaBlock(nn.Module):
    """A GASubBlock of ``cin`` channels, then a 1 x 1 conv to ``cout`` when they differ."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.block = GASubBlock(cin)
        self.reduction = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        z = self.block(x)
        return z if self.reduction is None else self.reduction(z)


class MidMetaNet(nn.Module):
    """The gSTA translator: (B, channels, H', W') -> (B, channels, H', W'), ``n_t`` >= 2 blocks
    (``channels`` -> ``hid``, ``n_t - 2`` x ``hid`` -> ``hid``, ``hid`` -> ``channels``)."""

    def __init__(self, channels: int, hid: int, n_t: int):
        super().__init__()
        self.enc = nn.Sequential(
            MetaBlock(channels, hid),
            *(MetaBlock(hid, hid) for _ in range(n_t - 2)),
            MetaBlock(hid, channels),
        )

    def init_openstl(self) -> None:
        """OpenSTL's initialisation of its blocks (the reduction convs keep torch's, as there)."""
        for layer in self.enc:
            layer.block.init_openstl()

    def forward(self, x):
        return self.enc(x)
