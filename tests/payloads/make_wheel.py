import base64
import hashlib
import zipfile

files = {
    "mine/__init__.py": b"ANSWER = 42\n",
    "mine-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: mine\nVersion: 1.0\n",
    "mine-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = (
    "".join(
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
        for n, d in files.items()
    )
    + "mine-1.0.dist-info/RECORD,,\n"
)
with zipfile.ZipFile("/tmp/mine-1.0-py3-none-any.whl", "w") as z:
    for n, d in files.items():
        z.writestr(n, d)
    z.writestr("mine-1.0.dist-info/RECORD", record)
