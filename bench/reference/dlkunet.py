"""DLKUNet S/M/L in PyTorch, written from ../shared/spec/dlkunet-architecture.md (not from the
paper's repository). Module and parameter names are those of dlk's C++ model, so dlk
checkpoints load here directly. Runs on Debian's python3-torch 1.13 and on PyTorch 2.x."""
import torch
from torch import nn
import torch.nn.functional as F

DEPTH = {"S": 2, "M": 3, "L": 4}


def conv(cin, cout, k, groups=1, dilation=1):
    return nn.Conv2d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation, groups=groups, bias=True)


class SepConv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.dw = conv(cin, cin, k, groups=cin)
        self.pw = conv(cin, cout, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


class LKA(nn.Module):
    def __init__(self, c, k=5, kd=7, d=3):
        super().__init__()
        self.dw = conv(c, c, k, groups=c)
        self.dwd = conv(c, c, kd, groups=c, dilation=d)
        self.pw = conv(c, c, 1)

    def forward(self, x):
        return x * self.pw(self.dwd(self.dw(x)))


class EBlock(nn.Module):
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.sep1 = SepConv(cin, cout, cfg["dw_kernel"])
        self.bn1 = nn.BatchNorm2d(cout)
        self.sep2 = SepConv(cout, cout, cfg["dw_kernel"])
        self.bn2 = nn.BatchNorm2d(cout)
        self.lka = LKA(cout, cfg["lka_kernel"], cfg["lka_dilated_kernel"], cfg["lka_dilation"])

    def forward(self, x):
        t = F.relu(self.bn1(self.sep1(x)))
        t = F.relu(self.bn2(self.sep2(t)))
        return self.lka(t)


class DFB(nn.Module):
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2, bias=True)
        self.block = EBlock(2 * cout, cout, cfg)

    def forward(self, deep, skip):
        u = self.up(deep)
        dy, dx = skip.shape[2] - u.shape[2], skip.shape[3] - u.shape[3]
        if dx or dy:
            u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.block(torch.cat([skip, u], 1))


class DLKUNet(nn.Module):
    def __init__(self, variant="S", in_channels=1, classes=9, base_channels=96, dw_kernel=3,
                 lka_kernel=5, lka_dilated_kernel=7, lka_dilation=3):
        super().__init__()
        cfg = dict(dw_kernel=dw_kernel, lka_kernel=lka_kernel, lka_dilated_kernel=lka_dilated_kernel,
                   lka_dilation=lka_dilation)
        D = DEPTH[variant]
        c = [base_channels << i for i in range(D + 1)]
        self.stem = EBlock(in_channels, c[0], cfg)
        self.encoders = [f"enc{i}" for i in range(1, D + 1)]
        for i in range(1, D + 1):
            setattr(self, f"enc{i}", EBlock(c[i - 1], c[i], cfg))
        self.decoders = [f"dfb{i}" for i in range(D - 1, -1, -1)]
        for i in range(D - 1, -1, -1):
            setattr(self, f"dfb{i}", DFB(c[i + 1], c[i], cfg))
        self.head = conv(c[0], classes, 1)

    def forward(self, x):
        skips = [self.stem(x)]
        for name in self.encoders:
            skips.append(getattr(self, name)(F.max_pool2d(skips[-1], 2, 2)))
        g = skips[-1]
        for k, name in enumerate(self.decoders):
            g = getattr(self, name)(g, skips[-2 - k])
        return self.head(g)


def from_config(model):
    """A DLKUNet from a dlk checkpoint's "model" metadata."""
    keys = ("variant", "in_channels", "classes", "base_channels", "dw_kernel", "lka_kernel",
            "lka_dilated_kernel", "lka_dilation")
    return DLKUNet(**{k: model[k] for k in keys})
