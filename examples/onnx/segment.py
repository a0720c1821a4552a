#!/usr/bin/env python3
"""Segments a NIfTI volume with a model written by dlk-export, without dlk.

usage: segment.py MODEL.onnx IMAGE.nii.gz [IMAGE2.nii.gz ...] OUT.nii.gz

One image per input channel, in the order of the model's "channels". Needs numpy, nibabel and
onnxruntime only. Everything the model needs to know about its input is in its metadata (see
dlk-export(1)): the normalisation, the orientation, the slicing axis and the resize rule. This is
what dlk-infer does, written out plainly to be copied into a server of your own."""
import json
import sys

import nibabel as nib
import numpy as np
import onnxruntime as ort


def normalize(v, n):
    """The per-volume intensity normalisation dlk-prep applied to the training data."""
    m = n["method"]
    if m == "zscore":
        sd = v.std(dtype=np.float64)
        return ((v - v.mean(dtype=np.float64)) / sd if sd > 0 else v * 0).astype(np.float32)
    if m == "none":
        return v
    if m == "window":
        lo, hi = n["window"]
    elif m == "percentile":
        lo, hi = np.percentile(v, n["percentiles"])  # numpy's default (linear), as dlk
    elif m == "minmax":
        lo, hi = float(v.min()), float(v.max())
    else:
        raise SystemExit(f"unknown normalization {m!r}")
    if hi <= lo:
        return np.zeros_like(v)
    return ((np.clip(v.astype(np.float64), lo, hi) - lo) / (hi - lo)).astype(np.float32)


def taps(n_in, n_out, cubic):
    """Source indices and weights along one axis, as PyTorch's bicubic (A = -0.75) and bilinear
    interpolation sample with align_corners=False (half-pixel centres, edges repeated)."""
    scale = n_in / n_out
    x = (np.arange(n_out) + 0.5) * scale - 0.5
    if cubic:
        x0 = np.floor(x).astype(int)
        t = x - x0
        a = -0.75
        conv1 = lambda s: ((a + 2) * s - (a + 3)) * s * s + 1          # |s| <= 1
        conv2 = lambda s: ((a * s - 5 * a) * s + 8 * a) * s - 4 * a    # 1 < |s| < 2
        w = np.stack([conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)], 1)
        idx = np.stack([x0 - 1, x0, x0 + 1, x0 + 2], 1)
    else:
        x = np.maximum(x, 0)
        x0 = np.floor(x).astype(int)
        t = x - x0
        w = np.stack([1 - t, t], 1)
        idx = np.stack([x0, x0 + 1], 1)
    return np.clip(idx, 0, n_in - 1), w


def resize(img, h, w, cubic):
    """img [..., H, W] to [..., h, w]."""
    iy, wy = taps(img.shape[-2], h, cubic)
    ix, wx = taps(img.shape[-1], w, cubic)
    rows = (img[..., iy, :] * wy[:, :, None]).sum(-2)       # [..., h, W]
    return (rows[..., ix] * wx).sum(-1).astype(np.float32)  # [..., h, w]


def nearest(lab, h, w):
    """PyTorch's "nearest": source index floor(i * in / out), in float32."""
    iy = np.minimum(np.floor(np.arange(h, dtype=np.float32) * np.float32(lab.shape[-2] / h)).astype(int), lab.shape[-2] - 1)
    ix = np.minimum(np.floor(np.arange(w, dtype=np.float32) * np.float32(lab.shape[-1] / w)).astype(int), lab.shape[-1] - 1)
    return lab[..., iy[:, None], ix[None, :]]


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    model, images, out = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
    session = ort.InferenceSession(model, providers=ort.get_available_providers())
    meta = session.get_modelmeta().custom_metadata_map
    channels, rule = json.loads(meta["channels"]), json.loads(meta["resize"])
    if len(images) != len(channels):
        raise SystemExit(f"{model} wants {len(channels)} image(s): {', '.join(channels)}")
    first = nib.load(images[0])
    vols = [normalize(nib.load(f).get_fdata(dtype=np.float32), json.loads(meta["normalization"])) for f in images]
    vol = np.stack(vols)  # [C, X, Y, Z]
    zooms = np.array(first.header.get_zooms()[:3], dtype=float)

    # Reorient to LPS, as dlk-prep did before slicing (nibabel's axis codes name where an axis points to).
    to_model = from_model = None
    if meta["orientation"] == "LPS":
        here = nib.io_orientation(first.affine)
        lps = nib.orientations.axcodes2ornt(("L", "P", "S"))
        to_model, from_model = nib.orientations.ornt_transform(here, lps), nib.orientations.ornt_transform(lps, here)
        vol = np.stack([nib.orientations.apply_orientation(v, to_model) for v in vol])
        zooms = zooms[np.argsort(to_model[:, 0])]

    # Slices across `axis`, as [height, width]: height the higher of the other two voxel axes.
    axis = "xyz".index(meta["axis"])
    slices = np.moveaxis(vol, axis + 1, 1).transpose(1, 0, 3, 2)  # [N, C, H, W]
    n, _, h, w = slices.shape
    sw, sh = [zooms[a] for a in range(3) if a != axis]
    if rule["mode"] == "size":
        th, tw = rule["size"]
        ph, pw = th, tw
    else:
        tx, ty = rule["spacing"]
        th, tw = max(1, int(h * sh / ty + 0.5)), max(1, int(w * sw / tx + 0.5))  # rounded half up, as dlk
        m = rule["pad_to_multiple"]
        ph, pw = -(-th // m) * m, -(-tw // m) * m
    x = slices if (th, tw) == (h, w) else resize(slices, th, tw, rule["image"] == "bicubic")
    x = np.pad(x, ((0, 0), (0, 0), (0, ph - th), (0, pw - tw)))

    labels = []
    for i in range(0, n, 8):
        y = session.run(None, {session.get_inputs()[0].name: x[i:i + 8]})[0]
        labels.append(y if y.ndim == 3 else y.argmax(1))  # "labels" models give the argmax
    lab = np.concatenate(labels)[:, :th, :tw]
    lab = lab if (th, tw) == (h, w) else nearest(lab, h, w)

    # Back to the volume's voxel axes and the scan's own orientation.
    vol_lab = np.moveaxis(lab.transpose(0, 2, 1), 0, axis)
    if from_model is not None:
        vol_lab = nib.orientations.apply_orientation(vol_lab, from_model)
    dtype = np.uint8 if len(json.loads(meta["classes"])) <= 256 else np.uint16
    img = nib.Nifti1Image(vol_lab.astype(dtype), first.affine, first.header)
    img.set_data_dtype(dtype)
    img.header.set_slope_inter(1, 0)
    nib.save(img, out)


if __name__ == "__main__":
    main()
