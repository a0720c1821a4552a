"""Synapse-sized label volumes for the dlk-score benchmark: 512x512xD, 8 organ-like classes
(smooth random blobs roughly where the abdominal organs lie, sizes from small (the gallbladder,
the aorta) to large (the liver)), and a prediction that differs as a segmentation does:
boundaries moved by a voxel or two, a missed sliver, a few false-positive islands.

usage: make_volumes.py OUTDIR [CASES=3] [DEPTH=150]"""
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

# (centre x, y, z as fractions of the volume; radii in voxels x, y, z): 8 Synapse classes
ORGANS = [(0.50, 0.45, 0.5, 12, 12, 60),   # aorta: a long thin tube
          (0.38, 0.42, 0.45, 18, 14, 12),  # gallbladder
          (0.68, 0.55, 0.45, 30, 34, 22),  # kidney (left)
          (0.32, 0.55, 0.45, 30, 34, 22),  # kidney (right)
          (0.30, 0.35, 0.55, 90, 80, 40),  # liver
          (0.52, 0.48, 0.45, 60, 18, 12),  # pancreas
          (0.75, 0.40, 0.55, 40, 45, 25),  # spleen
          (0.62, 0.32, 0.55, 55, 40, 25)]  # stomach


def organ_field(shape, rng):
    lab = np.zeros(shape, np.uint8)
    zz, yy, xx = None, None, None
    grid = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for c, (cx, cy, cz, rx, ry, rz) in enumerate(ORGANS, start=1):
        centre = (cx * shape[0], cy * shape[1], cz * shape[2])
        d = sum(((grid[k] - centre[k]) / r) ** 2 for k, r in enumerate((rx, ry, rz)))
        # A smooth, lumpy boundary: threshold the ellipsoid distance plus low-frequency noise.
        noise = ndimage.zoom(rng.normal(0, 0.25, (16, 16, 8)), [s / n for s, n in zip(shape, (16, 16, 8))], order=1)
        lab[(d + noise[: shape[0], : shape[1], : shape[2]]) < 1] = c
    return lab


def perturb(truth, rng):
    pred = truth.copy()
    for c in range(1, len(ORGANS) + 1):
        m = truth == c
        op = rng.choice(["dilate", "erode", "shift"])
        if op == "dilate":
            m2 = ndimage.binary_dilation(m, iterations=int(rng.integers(1, 3)))
        elif op == "erode":
            m2 = ndimage.binary_erosion(m, iterations=int(rng.integers(1, 3)))
        else:
            m2 = np.roll(m, int(rng.integers(-3, 4)), axis=int(rng.integers(0, 3)))
        pred[m & ~m2] = 0
        pred[m2 & (pred == 0)] = c
        for _ in range(int(rng.integers(0, 3))):  # false-positive islands
            x, y, z = (int(rng.integers(0, s - 6)) for s in truth.shape)
            pred[x:x + 5, y:y + 5, z:z + 3] = c
    return pred


if __name__ == "__main__":
    out = sys.argv[1]
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    rng = np.random.default_rng(2026)
    for sub in ("pred", "truth"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    affine = np.diag([0.75, 0.75, 3.0, 1.0])
    for k in range(cases):
        truth = organ_field((512, 512, depth), rng)
        pred = perturb(truth, rng)
        nib.save(nib.Nifti1Image(truth, affine), os.path.join(out, "truth", f"case{k:04d}.nii.gz"))
        nib.save(nib.Nifti1Image(pred, affine), os.path.join(out, "pred", f"case{k:04d}.nii.gz"))
        print(f"case{k:04d}: voxels per class", np.bincount(truth.ravel(), minlength=9)[1:].tolist(), flush=True)
