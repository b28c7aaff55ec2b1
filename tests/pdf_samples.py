"""Small PDFs made in the tests, for inputs no real report provides (blank, encrypted)."""

from __future__ import annotations


def tiny_pdf(encrypt: bool = False) -> bytes:
    """A valid one-page PDF; with ``encrypt`` it has a standard security handler whose password is unknown."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    if encrypt:
        objs.append(b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objs) + 1)
    if encrypt:
        trailer += b" /Encrypt 4 0 R /ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">]"
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def text_pdf(text: str = "Hello", *, compress: bool = False, damage: str | None = None,
             user_password: str | None = None, owner_password: str = "owner", permissions: int = -4) -> bytes:
    """A one-page PDF printing ``text`` (ASCII, Helvetica).

    ``compress`` Flate-compresses the page's content; ``damage`` ("content" or "image") overwrites the
    middle of the compressed content, or of an image the page draws, with zero bytes. With
    ``user_password`` (may be "", an owner password only) the file is encrypted with the standard
    security handler (revision 2, RC4 40-bit), as a PDF writer does it, granting ``permissions``
    (``/P``: -4 all, 0 none)."""
    import hashlib
    import struct
    import zlib

    content = b"BT /F1 12 Tf 20 100 Td (" + text.encode("ascii") + b") Tj ET"
    if damage == "image":
        content += b" q 10 0 0 10 20 20 cm /Im1 Do Q"
    raw = zlib.compress(content) if compress or damage == "content" else content
    if damage == "content":
        raw = raw[:4] + b"\0" * (len(raw) - 8) + raw[-4:]
    image = zlib.compress(bytes(range(256)) * 12)  # 64x48 grey
    image = image[:8] + b"\0" * 200 + image[208:]
    xobject = b" /XObject << /Im1 6 0 R >>" if damage == "image" else b""
    objs: list[tuple[bytes, bytes | None]] = [
        (b"<< /Type /Catalog /Pages 2 0 R >>", None),
        (b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
         b" /Resources << /Font << /F1 5 0 R >>" + xobject + b" >> >>", None),
        (b"<< /Length %d" % len(raw) + (b" /Filter /FlateDecode" if raw is not content else b"") + b" >>", raw),
        (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", None),
    ]
    if damage == "image":
        objs.append((b"<< /Type /XObject /Subtype /Image /Width 64 /Height 48 /ColorSpace /DeviceGray"
                     b" /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>" % len(image), image))
    file_id = b"\xab" * 16
    key = None
    if user_password is not None:
        pad = lambda pw: (pw.encode("latin-1") + _PAD)[:32]  # noqa: E731
        perms = permissions
        o_entry = _rc4(hashlib.md5(pad(owner_password)).digest()[:5], pad(user_password))
        key = hashlib.md5(pad(user_password) + o_entry + struct.pack("<i", perms) + file_id).digest()[:5]
        u_entry = _rc4(key, _PAD)
        objs.append((b"<< /Filter /Standard /V 1 /R 2 /O <" + o_entry.hex().encode() + b"> /U <"
                      + u_entry.hex().encode() + b"> /P %d >>" % perms, None))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, (obj, stream) in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj
        if stream is not None:
            if key is not None:
                stream = _rc4(hashlib.md5(key + i.to_bytes(3, "little") + b"\0\0").digest()[:10], stream)
            out += b"\nstream\n" + stream + b"\nendstream"
        out += b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root 1 0 R /ID [<%s> <%s>]" % (len(objs) + 1, file_id.hex().encode(), file_id.hex().encode())
    if key is not None:
        trailer += b" /Encrypt %d 0 R" % len(objs)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
