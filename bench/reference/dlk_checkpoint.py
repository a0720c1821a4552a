"""Reads dlk's checkpoint container (lib/include/dlk/model/checkpoint.h) with numpy alone."""
import json
import struct
import zlib

import numpy as np

MAGIC = b"\x89DLKC\r\n\x1a"
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
          "int32": np.int32, "uint8": np.uint8}


def read(path):
    """Returns (metadata dict, {name: numpy array}); raises ValueError on any damage."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a dlk checkpoint")
    major, minor, _flags, mlen, crc = struct.unpack_from("<HHIII", data, 8)
    if major != 1:
        raise ValueError(f"{path}: checkpoint version {major}.{minor} not supported")
    meta_bytes = data[24:24 + mlen]
    if zlib.crc32(meta_bytes, zlib.crc32(data[:20])) != crc:
        raise ValueError(f"{path}: header checksum mismatch")
    if data[-16:-12] != b"DLKZ" or struct.unpack_from("<Q", data, len(data) - 8)[0] != len(data):
        raise ValueError(f"{path}: truncated")
    meta = json.loads(meta_bytes)
    start = (24 + mlen + 63) // 64 * 64
    tensors = {}
    for t in meta["tensors"]:
        raw = data[start + t["offset"]:start + t["offset"] + t["bytes"]]
        if zlib.crc32(raw) != t["crc32"]:
            raise ValueError(f"{path}: tensor {t['name']} checksum mismatch")
        tensors[t["name"]] = np.frombuffer(raw, dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    return meta, tensors
