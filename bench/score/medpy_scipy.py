"""TransUNet's scoring with scipy (medpy's algorithm, as tests/score/medpy_reference.py
implements it): per case and class DSC and HD95 in voxels, TransUNet's empty-mask rules. Prints
the seconds it took and writes a CSV comparable with dlk-score's.

usage: medpy_scipy.py PRED_DIR TRUTH_DIR OUT.csv"""
import csv
import os
import sys
import time

import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "score"))
from medpy_reference import metrics  # noqa: E402

pred_dir, truth_dir, out = sys.argv[1:4]
t0 = time.perf_counter()
rows = []
for f in sorted(os.listdir(truth_dir)):
    truth = np.asarray(nib.load(os.path.join(truth_dir, f)).dataobj)
    pred = np.asarray(nib.load(os.path.join(pred_dir, f)).dataobj)
    for c in range(1, 9):
        p, r = pred == c, truth == c
        if p.any() and r.any():
            m = metrics(p, r, None)
            rows.append((f[:-7], c, m["dsc"], m["hd95"]))
        else:
            rows.append((f[:-7], c, 1.0 if p.any() else 0.0, 0.0))
secs = time.perf_counter() - t0
with open(out, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["case", "class_id", "dsc", "hd95"])
    w.writerows(rows)
print(f"{secs:.2f}")
