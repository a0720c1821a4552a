"""Writes a DICOM series from a NIfTI volume with pydicom, independently of ITK, GDCM and DCMTK:
one CT (or MR) Image Storage file per slice along the volume's third axis, geometry that ITK would
give the NIfTI (LPS), stored as unsigned integers with a rescale intercept (and slope). As
scanners' exports do, instance numbers run against the slice positions and file names are
shuffled. Faults for the error tests: --drop K (a missing slice), --duplicate K, --tilt DEGREES
(sheared positions), --slices N (the first N only), --frames (a multi-frame object),
--broken-jpeg (pixel data that claim JPEG 2000 and are not), --turn K (slice K's orientation
differs), --report (a structured report, no image, in the series).

usage: make_series.py NIFTI OUTDIR [--series-uid UID] [--study-uid UID] [--description D]
                      [--modality CT|MR] [--slope S] [--seed N] [fault options]"""
import argparse
import os
import random

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"


def lps_geometry(img):
    """Origin, axis directions (columns) and spacing as ITK reads a NIfTI: RAS flipped to LPS."""
    a = img.affine[:3, :3]
    spacing = np.sqrt((a ** 2).sum(0))
    flip = np.diag([-1.0, -1.0, 1.0])
    return flip @ img.affine[:3, 3], flip @ (a / spacing), spacing


def ds(s):
    """A decimal string of at most 16 characters (DICOM's DS)."""
    t = f"{s:.6f}".rstrip("0").rstrip(".")
    return t if t not in ("-0", "") else "0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nifti")
    ap.add_argument("out")
    ap.add_argument("--series-uid", default=None)
    ap.add_argument("--study-uid", default="1.2.826.0.1.3680043.8.498.1")
    ap.add_argument("--for-uid", default="1.2.826.0.1.3680043.8.498.2")
    ap.add_argument("--description", default="test series")
    ap.add_argument("--modality", default="CT")
    ap.add_argument("--slope", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop", type=int, default=None)
    ap.add_argument("--duplicate", type=int, default=None)
    ap.add_argument("--tilt", type=float, default=0.0)
    ap.add_argument("--slices", type=int, default=None)
    ap.add_argument("--frames", action="store_true")
    ap.add_argument("--broken-jpeg", action="store_true")
    ap.add_argument("--turn", type=int, default=None)
    ap.add_argument("--report", action="store_true")
    a = ap.parse_args()

    img = nib.load(a.nifti)
    vol = np.asarray(img.dataobj, dtype=np.float64)
    origin, d, sp = lps_geometry(img)
    lo = float(np.floor(vol.min() / a.slope)) * a.slope
    stored = np.round((vol - lo) / a.slope)
    assert stored.max() < 65536 and np.allclose(stored * a.slope + lo, vol, atol=a.slope / 2)
    stored = stored.astype(np.uint16)
    series = a.series_uid or generate_uid()
    n = vol.shape[2] if a.slices is None else a.slices
    ks = [k for k in range(n) if k != a.drop] + ([a.duplicate] if a.duplicate is not None else [])
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    names = [f"IM{rng.randrange(10**6):06d}_{i}" for i in range(len(ks))]
    rng.shuffle(names)
    for i, k in enumerate(ks):
        f = Dataset()
        f.SOPClassUID = CT if a.modality == "CT" else MR
        f.SOPInstanceUID = generate_uid()
        f.StudyInstanceUID, f.SeriesInstanceUID, f.FrameOfReferenceUID = a.study_uid, series, a.for_uid
        f.Modality, f.SeriesDescription = a.modality, a.description
        f.PatientName, f.PatientID, f.PatientBirthDate, f.PatientSex = "Test^Volume", "DLK-TEST-1", "19700101", "O"
        f.StudyDate, f.StudyTime, f.AccessionNumber, f.ReferringPhysicianName = "20260101", "120000", "", ""
        f.StudyID, f.SeriesNumber, f.InstanceNumber = "1", 1, n - k  # against the position
        f.Manufacturer, f.PositionReferenceIndicator = "dlk tests", ""
        # Position of voxel (0, 0, k); a tilt shears the slices along the column direction.
        pos = origin + d[:, 2] * sp[2] * k + d[:, 1] * sp[2] * k * np.tan(np.radians(a.tilt))
        f.ImagePositionPatient = [ds(x) for x in pos]
        f.ImageOrientationPatient = [ds(x) for x in list(d[:, 0]) + list(d[:, 1])]
        if k == a.turn:  # rows and columns swapped
            f.ImageOrientationPatient = [ds(x) for x in list(d[:, 1]) + list(d[:, 0])]
        f.PixelSpacing = [ds(sp[1]), ds(sp[0])]  # rows apart (y), then columns apart (x)
        f.SliceThickness = ds(sp[2])
        f.SamplesPerPixel, f.PhotometricInterpretation = 1, "MONOCHROME2"
        f.Rows, f.Columns = vol.shape[1], vol.shape[0]
        f.BitsAllocated, f.BitsStored, f.HighBit, f.PixelRepresentation = 16, 16, 15, 0
        f.RescaleIntercept, f.RescaleSlope, f.RescaleType = ds(lo), ds(a.slope), "HU" if a.modality == "CT" else "US"
        if a.modality == "CT":
            f.ImageType, f.KVP, f.AcquisitionNumber = ["ORIGINAL", "PRIMARY", "AXIAL"], "120", 1
        pixels = np.ascontiguousarray(stored[:, :, k].T)  # rows (y) by columns (x)
        if a.frames:
            f.NumberOfFrames = 2
            pixels = np.concatenate([pixels, pixels])
        f.PixelData = pixels.tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = f.SOPClassUID, f.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if a.broken_jpeg:
            meta.TransferSyntaxUID = JPEG2000Lossless
            f.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + bytes(64)])
            f["PixelData"].VR = "OB"
        f.file_meta = meta
        f.preamble = b"\0" * 128
        pydicom.dcmwrite(os.path.join(a.out, names[i]), f, enforce_file_format=True)
    if a.report:  # Basic Text SR: no pixels, no geometry
        r = Dataset()
        r.SOPClassUID, r.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.11", generate_uid()
        r.StudyInstanceUID, r.SeriesInstanceUID, r.Modality = a.study_uid, series, "SR"
        r.PatientName, r.PatientID = "Test^Volume", "DLK-TEST-1"
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = r.SOPClassUID, r.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        r.file_meta, r.preamble = meta, b"\0" * 128
        pydicom.dcmwrite(os.path.join(a.out, "report"), r, enforce_file_format=True)


if __name__ == "__main__":
    main()
