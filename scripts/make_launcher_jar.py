"""Write a jar that only names a main class and the jar that holds it.

firebase-tools starts the Firestore emulator with ``java -jar FILE``; the emulator that
Debian's google-cloud-cli package installs has no ``Main-Class`` in its manifest. This
launcher adds one and loads the installed jar through ``Class-Path``.

    python make_launcher_jar.py OUT.jar TARGET.jar MAIN.CLASS
"""

import pathlib
import sys
import zipfile


def main(out: str, target: str, main_class: str) -> None:
    manifest = (
        "Manifest-Version: 1.0\r\n"
        f"Main-Class: {main_class}\r\n"
        f"Class-Path: {pathlib.Path(target).resolve().as_uri()}\r\n"
        "\r\n"
    )
    path = pathlib.Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)


if __name__ == "__main__":
    main(*sys.argv[1:])
