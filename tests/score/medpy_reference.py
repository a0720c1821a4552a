"""An independent implementation of medpy's binary metrics (dc, hd, hd95, assd; medpy 0.5.2
binary.py as ../shared/spec/protocol-and-anchors.md section 2.1 describes it) with scipy, used to
check dlk-score on random label volumes. Written from the description, not from medpy's code.

usage: medpy_reference.py make DIR N SEED   writes DIR/pred/caseK.nii.gz, DIR/truth/caseK.nii.gz
       medpy_reference.py check DIR CSV     compares dlk-score's CSV (--mode medpy --distance-unit mm)"""
import csv
import math
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

CLASSES = 4


def surface_distances(a, b, spacing):
    footprint = ndimage.generate_binary_structure(a.ndim, 1)
    border_a = a ^ ndimage.binary_erosion(a, structure=footprint, iterations=1)
    border_b = b ^ ndimage.binary_erosion(b, structure=footprint, iterations=1)
    dt_b = ndimage.distance_transform_edt(~border_b, sampling=spacing)
    return dt_b[border_a]


def metrics(p, r, spacing):
    dc = 2.0 * np.count_nonzero(p & r) / (np.count_nonzero(p) + np.count_nonzero(r))
    d1, d2 = surface_distances(p, r, spacing), surface_distances(r, p, spacing)
    both = np.hstack((d1, d2))
    return {"dsc": dc, "hd95": float(np.percentile(both, 95)), "hd": float(max(d1.max(), d2.max())),
            "assd": float(both.mean())}


def blobs(shape, rng):
    """A few random ellipsoids and boxes per class: organ-like lumps, some touching the border."""
    lab = np.zeros(shape, np.uint8)
    grid = np.indices(shape).astype(float)
    for c in range(1, CLASSES):
        for _ in range(rng.integers(1, 3)):
            centre = [rng.uniform(-1, s) for s in shape]
            radii = [rng.uniform(1, max(2, s / 2)) for s in shape]
            inside = sum(((grid[k] - centre[k]) / radii[k]) ** 2 for k in range(3)) <= 1
            lab[inside & (rng.random(shape) > 0.05)] = c
    return lab


def make(d, n, seed):
    rng = np.random.default_rng(seed)
    for sub in ("pred", "truth"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for k in range(n):
        shape = tuple(int(rng.integers(4, 24)) for _ in range(3))
        spacing = [float(rng.choice([0.5, 0.8, 1.0, 1.5, 3.0])) for _ in range(3)]
        affine = np.diag(spacing + [1.0])
        truth = blobs(shape, rng)
        pred = truth.copy()
        noise = rng.random(shape)  # flip some voxels and add a stray lump, so surfaces differ
        pred[noise < 0.08] = rng.integers(0, CLASSES, size=int((noise < 0.08).sum()))
        pred = np.where(rng.random() < 0.5, np.roll(pred, 1, axis=int(rng.integers(0, 3))), pred).astype(np.uint8)
        for sub, vol in (("pred", pred), ("truth", truth)):
            img = nib.Nifti1Image(vol, affine)
            img.header.set_zooms(spacing)
            nib.save(img, os.path.join(d, sub, f"case{k:03d}.nii.gz"))


def check(d, csv_path):
    rows = {(r["case"], int(r["class_id"])): r for r in csv.DictReader(open(csv_path))}
    compared = worst = 0
    for f in sorted(os.listdir(os.path.join(d, "truth"))):
        case = f[: -len(".nii.gz")]
        t_img = nib.load(os.path.join(d, "truth", f))
        truth = np.asarray(t_img.dataobj)
        pred = np.asarray(nib.load(os.path.join(d, "pred", f)).dataobj)
        spacing = [float(z) for z in t_img.header.get_zooms()[:3]]
        for c in range(1, CLASSES):
            p, r = pred == c, truth == c
            row = rows[(case, c)]
            if not p.any() or not r.any():
                continue  # medpy raises for an empty mask; dlk-score's empty rules have their own tests
            want = metrics(p, r, spacing)
            for key, value in want.items():
                got = float(row[key])
                err = abs(got - value) / max(1.0, abs(value))
                worst = max(worst, err)
                if err > 1e-9:
                    print(f"MISMATCH {case} class {c} {key}: dlk {got!r}, reference {value!r}")
                    return 1
            compared += 1
    print(f"{compared} class/case pairs agree with the scipy reference to {worst:.1e} (limit 1e-9)")
    return 0 if compared >= 100 else 1


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
