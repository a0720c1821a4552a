#!/usr/bin/python3
"""TransUNet-style data preparation, the Python baseline of bench/prep/run.sh.

Usage: /usr/bin/python3 transunet_prep.py brats|totalseg DATA_DIR OUT_DIR [--compressed]

Follows TransUNet's documented recipe: load each volume with nibabel; clip CT to
[-125, 275] and scale to [0, 1] (already-normalized MRI is only cast to float32);
write training cases as one .npz per axial slice (arrays 'image' float32 [H,W] or
[C,H,W], 'label' uint8 [H,W]) and test cases as one HDF5 file per volume (datasets
'image' float32 [D,H,W] or [D,C,H,W], 'label' uint8 [D,H,W]). The axial axis is
nibabel's last axis. --compressed uses np.savez_compressed and h5py gzip level 4
instead of np.savez and uncompressed HDF5.
"""
import os
import sys

import h5py
import nibabel as nib
import numpy as np

# TotalSegmentator v2 id -> Synapse class (aorta, gallbladder, kidney L, kidney R,
# liver, pancreas, spleen, stomach); every other id -> 0.
TOTALSEG_TO_SYNAPSE = {52: 1, 4: 2, 3: 3, 2: 4, 5: 5, 7: 6, 1: 7, 6: 8}


def brats_cases(data):
    """(case id, split, [channel files], label file, is_ct) for the four BraTS cases."""
    for pat, split in (("0005", "train"), ("0006", "train"), ("0003", "test"), ("0004", "test")):
        d = os.path.join(data, "brats", f"brats_2013_pat{pat}_1")
        images = [os.path.join(d, f"{m}_subtrMeanDivStd.nii.gz") for m in ("Flair", "T1c")]
        yield f"pat{pat}", split, images, os.path.join(d, "OTMultiClass.nii.gz"), False


def totalseg_cases(data):
    """The small CT, once as a training case and once as a test case."""
    d = os.path.join(data, "totalseg-ct-small")
    for case, split in (("ct_train", "train"), ("ct_test", "test")):
        yield case, split, [os.path.join(d, "ct.nii.gz")], os.path.join(d, "seg.nii.gz"), True


def load_image(path, is_ct):
    x = nib.load(path).get_fdata(dtype=np.float32)
    if is_ct:
        x = (np.clip(x, -125.0, 275.0) + 125.0) / 400.0
    return x


def load_label(path, is_ct):
    y = np.asarray(nib.load(path).dataobj)
    if is_ct:
        lut = np.zeros(max(int(y.max()) + 1, 53), np.uint8)
        for raw, cls in TOTALSEG_TO_SYNAPSE.items():
            lut[raw] = cls
        return lut[y.astype(np.int64)]
    return y.astype(np.uint8)


def prepare(case, split, image_files, label_file, is_ct, out, compressed):
    channels = [load_image(f, is_ct) for f in image_files]
    image = channels[0] if len(channels) == 1 else np.stack(channels)  # [X,Y,Z] or [C,X,Y,Z]
    label = load_label(label_file, is_ct)  # [X,Y,Z]
    if split == "train":
        save = np.savez_compressed if compressed else np.savez
        for z in range(label.shape[-1]):
            save(os.path.join(out, f"{case}_slice{z:03d}.npz"),
                 image=np.ascontiguousarray(image[..., z]), label=np.ascontiguousarray(label[..., z]))
    else:
        gzip = {"compression": "gzip", "compression_opts": 4} if compressed else {}
        with h5py.File(os.path.join(out, f"{case}.npy.h5"), "w") as f:
            f.create_dataset("image", data=np.moveaxis(image, -1, 0), **gzip)  # [D,...]
            f.create_dataset("label", data=np.moveaxis(label, -1, 0), **gzip)


def main(argv):
    args = [a for a in argv if a != "--compressed"]
    if len(args) != 3 or args[0] not in ("brats", "totalseg"):
        sys.exit(__doc__.strip().splitlines()[2])
    dataset, data, out = args
    os.makedirs(out, exist_ok=True)
    cases = brats_cases(data) if dataset == "brats" else totalseg_cases(data)
    for case in cases:
        prepare(*case, out=out, compressed="--compressed" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
