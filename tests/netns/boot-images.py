#!/usr/bin/env python3
# boot-images.py ISO DISK: two tiny bootable images for the boot order tests. ISO is an El Torito
# cdrom (no emulation) whose boot code prints "CD" on the first serial port and resets the machine
# (port 0xcf9); DISK is a 1 MiB raw disk whose MBR prints "HD" and halts. What SeaBIOS boots, in
# which order, shows on the guest's serial console.
import struct
import sys


def code(tag, reboot):
    c = bytes([0xFA, 0xBA, 0xF8, 0x03])  # cli; mov dx, 0x3f8
    for ch in tag + "\n":
        c += bytes([0xB0, ord(ch), 0xEE])  # mov al, ch; out dx, al
    if reboot:
        c += bytes([0xBA, 0xF9, 0x0C, 0xB0, 0x06, 0xEE])  # mov dx, 0xcf9; mov al, 6; out dx, al
    return c + bytes([0xF4, 0xEB, 0xFD])  # hlt; jmp to hlt


def disk(tag):
    b = bytearray(1024 * 1024)
    c = code(tag, False)
    b[: len(c)] = c
    b[510:512] = b"\x55\xaa"
    return bytes(b)


def iso(tag):
    s = bytearray(2048 * 20)
    # sector 17: the boot record volume descriptor, naming the boot catalog (sector 18)
    br = 17 * 2048
    s[br + 1 : br + 6] = b"CD001"
    s[br + 6] = 1
    s[br + 7 : br + 30] = b"EL TORITO SPECIFICATION"
    struct.pack_into("<I", s, br + 0x47, 18)
    # sector 18: validation entry and the default entry (no emulation, 4 x 512 bytes at sector 19)
    cat = 18 * 2048
    s[cat] = 1
    s[cat + 0x1E : cat + 0x20] = b"\x55\xaa"
    struct.pack_into("<H", s, cat + 28, (-sum(struct.unpack_from("<16H", s, cat))) & 0xFFFF)
    s[cat + 0x20] = 0x88
    struct.pack_into("<H", s, cat + 0x26, 4)
    struct.pack_into("<I", s, cat + 0x28, 19)
    c = code(tag, True)
    s[19 * 2048 : 19 * 2048 + len(c)] = c
    return bytes(s)


with open(sys.argv[1], "wb") as f:
    f.write(iso("CD"))
with open(sys.argv[2], "wb") as f:
    f.write(disk("HD"))
