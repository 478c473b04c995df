"""ZIP record layouts (APPNOTE 6.3): what :mod:`ngff.ozx` reads and writes.

Only the records an OME-Zarr zip file needs: local file headers, central directory
headers, the ZIP64 extra field, the ZIP64 end of central directory record and its
locator, and the end of central directory record.  All integers are little-endian.
"""

from __future__ import annotations

import struct

__all__ = [
    "LOCAL",
    "CENTRAL",
    "EOCD",
    "ZIP64_EOCD",
    "ZIP64_LOCATOR",
    "SIG_LOCAL",
    "SIG_CENTRAL",
    "SIG_EOCD",
    "SIG_ZIP64_EOCD",
    "SIG_ZIP64_LOCATOR",
    "ZIP64_EXTRA_ID",
    "STORED",
    "DEFLATED",
    "FLAG_ENCRYPTED",
    "FLAG_DATA_DESCRIPTOR",
    "FLAG_UTF8",
    "VERSION_ZIP64",
    "MAX16",
    "MAX32",
    "MAX_COMMENT",
]

#: local file header: signature, version needed, flags, method, time, date, crc-32,
#: compressed size, uncompressed size, name length, extra length (30 bytes)
LOCAL = struct.Struct("<IHHHHHIIIHH")
#: central directory header: signature, version made by, version needed, flags, method,
#: time, date, crc-32, compressed size, uncompressed size, name length, extra length,
#: comment length, disk number start, internal attributes, external attributes,
#: local header offset (46 bytes)
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
#: end of central directory: signature, disk number, disk with the central directory,
#: entries on this disk, entries in total, directory size, directory offset, comment
#: length (22 bytes)
EOCD = struct.Struct("<IHHHHIIH")
#: ZIP64 end of central directory: signature, size of the rest of the record, version
#: made by, version needed, disk number, disk with the central directory, entries on
#: this disk, entries in total, directory size, directory offset (56 bytes)
ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
#: ZIP64 end of central directory locator: signature, disk with the ZIP64 record,
#: offset of the ZIP64 record, number of disks (20 bytes)
ZIP64_LOCATOR = struct.Struct("<IIQI")

SIG_LOCAL = 0x04034B50
SIG_CENTRAL = 0x02014B50
SIG_EOCD = 0x06054B50
SIG_ZIP64_EOCD = 0x06064B50
SIG_ZIP64_LOCATOR = 0x07064B50
ZIP64_EXTRA_ID = 0x0001

STORED = 0
DEFLATED = 8

FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_UTF8 = 0x0800

#: "version needed to extract" for ZIP64 records (APPNOTE 4.4.3.2)
VERSION_ZIP64 = 45

MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF
MAX_COMMENT = 0xFFFF
