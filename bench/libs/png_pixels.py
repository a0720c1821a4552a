# Decodes an 8-bit RGB, non-interlaced PNG into raw pixel bytes (all five filter types).
import struct, sys, zlib, zlib as z
def decode(path):
    d = open(path, 'rb').read()
    assert d[:8] == b'\x89PNG\r\n\x1a\n'
    i, idat = 8, b''
    while i < len(d):
        n, = struct.unpack('>I', d[i:i+4]); t = d[i+4:i+8]; body = d[i+8:i+8+n]
        assert z.crc32(t + body) == struct.unpack('>I', d[i+8+n:i+12+n])[0], 'chunk CRC'
        if t == b'IHDR': w, h, depth, ct, _, _, il = struct.unpack('>IIBBBBB', body); assert (depth, ct, il) == (8, 2, 0)
        if t == b'IDAT': idat += body
        i += 12 + n
    raw = zlib.decompress(idat); stride = w * 3; out = bytearray(); prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0; b = prev[x]; c = prev[x - 3] if x >= 3 else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line; prev = line
    return w, h, bytes(out)
a, b = decode(sys.argv[1]), decode(sys.argv[2])
print(sys.argv[1], sys.argv[2], a[:2], 'pixels identical' if a == b else 'PIXELS DIFFER')
sys.exit(0 if a == b else 1)
