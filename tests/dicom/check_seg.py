"""Reads a DICOM Segmentation back with highdicom, independently of DCMTK, and checks it against a
label volume (NIfTI, on the source series' grid) and the source series (pydicom).

usage: check_seg.py SEG.dcm LABELS.nii.gz SERIES_DIR CLASS,CLASS,...   (classes background first)
Prints what it checked; exit 1 when anything differs."""
import os
import sys

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom


def main():
    seg_path, labels_path, series_dir, classes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    seg = hd.seg.segread(seg_path)
    source = [pydicom.dcmread(os.path.join(series_dir, f), stop_before_pixels=True) for f in os.listdir(series_dir)]
    source = [s for s in source if "ImagePositionPatient" in s]
    normal = np.cross(*np.array(source[0].ImageOrientationPatient, dtype=float).reshape(2, 3))
    source.sort(key=lambda s: float(np.dot(np.array(s.ImagePositionPatient, dtype=float), normal)))
    labels = np.asarray(nib.load(labels_path).dataobj)  # [x, y, z] on the series' grid
    bad = []

    def check(ok, what):
        print(("ok: " if ok else "FAIL: ") + what)
        if not ok:
            bad.append(what)

    present = [k for k in range(1, len(classes)) if (labels == k).any()]
    numbers = list(seg.segment_numbers)
    names = [seg.get_segment_description(n).segment_label for n in numbers]
    check(names == [classes[k] for k in present], f"segment labels are the class names present: {names}")
    # SNOMED CT codes of the organs, from DICOM PS3.16 (CID 7166 and the anatomic regions).
    sct = {"aorta": "15825003", "gallbladder": "28231008", "kidney_left": "18639004", "kidney_right": "9846003",
           "liver": "10200004", "pancreas": "15776009", "spleen": "78961009", "stomach": "69695003"}
    for n, name in zip(numbers, names):
        if name in sct:
            t = seg.get_segment_description(n).segmented_property_type
            check(t.value == sct[name] and t.scheme_designator == "SCT", f"{name}: SCT {t.value} {t.meaning}")
    check(all(seg.get_segment_description(n).algorithm_type == hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC for n in numbers),
          "algorithm type AUTOMATIC")
    check(seg.StudyInstanceUID == source[0].StudyInstanceUID and seg.FrameOfReferenceUID == source[0].FrameOfReferenceUID,
          "the source's study and frame of reference")
    check(seg.PatientID == source[0].PatientID, "the source's patient module")
    refs = {r.SeriesInstanceUID for r in seg.ReferencedSeriesSequence}
    check(refs == {source[0].SeriesInstanceUID}, f"references the source series {source[0].SeriesInstanceUID}")
    uids = [s.SOPInstanceUID for s in source]
    mask = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=numbers,
                                             ignore_spatial_locations=True, assert_missing_frames_are_empty=True)
    # mask: [slices, rows, columns, segments] -> a label volume [x, y, z]
    got = np.zeros(labels.shape, dtype=labels.dtype)
    for i, k in enumerate(present):
        got[mask[..., i].transpose(2, 1, 0) > 0] = k
    differ = got != labels
    check(not differ.any(), f"masks equal the labels voxel for voxel ({int((labels > 0).sum())} foreground voxels"
          + (f"; {int(differ.sum())} differ, labels there {np.unique(labels[differ])}, SEG {np.unique(got[differ])} at {np.argwhere(differ)[:6].tolist()}, frames {seg.NumberOfFrames}, segments {present})" if differ.any() else ")"))
    frames = int(seg.NumberOfFrames)
    expect = sum(int((labels[:, :, z] == k).any()) for k in present for z in range(labels.shape[2]))
    check(frames == expect, f"one frame per segment and slice that holds it: {frames}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
