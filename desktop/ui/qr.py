"""QR codes of the verification URL, for a phone camera: as a QImage for the dialog, as text for a terminal."""

from __future__ import annotations

import io

import segno
from PySide6.QtGui import QImage


def qr_image(text: str, scale: int = 6, dark: str = "#000000", light: str = "#ffffff") -> QImage:
    """A crisp QR image (integer module scale, quiet zone included) of ``text``."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4, dark=dark,
                                                   light=light)
    image = QImage()
    image.loadFromData(buffer.getvalue(), "PNG")
    return image
