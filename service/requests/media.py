"""Media the simulated pipeline produces: an SVG thumbnail and a short playable WebM.

The video is rendered by the ffmpeg binary that the imageio-ffmpeg wheel ships, so a fresh
machine needs nothing installed by hand.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from . import text as student_text

CLIP_SECONDS = 4
PALETTE = ("#1e3a8a", "#065f46", "#7c2d12", "#4c1d95", "#831843", "#134e4a")


class RenderError(Exception):
    """The video could not be rendered."""


@dataclass(frozen=True, slots=True)
class Media:
    video_path: Path
    thumbnail_path: Path
    duration_seconds: int


def _colour(request_id: uuid.UUID) -> str:
    return PALETTE[request_id.int % len(PALETTE)]


def thumbnail_svg(title: str, colour: str) -> str:
    """A 320x180 SVG card with the title (cleaned of what XML cannot hold, and escaped)."""
    title = student_text.clean(title)
    shown = html.escape(title if len(title) <= 40 else title[:39] + "…")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">'
        f'<rect width="320" height="180" fill="{colour}"/>'
        '<circle cx="160" cy="70" r="28" fill="rgba(255,255,255,0.9)"/>'
        '<path d="M152 56 L174 70 L152 84 Z" fill="#111"/>'
        '<text x="160" y="140" fill="#fff" font-family="sans-serif" font-size="15" '
        f'text-anchor="middle">{shown}</text></svg>'
    )


async def render(media_dir: Path, request_id: uuid.UUID, version: int, title: str) -> Media:
    """Write `videos/<id>-<version>.webm` and `thumbnails/<id>.svg` under `media_dir`."""
    title = student_text.clean(title)
    videos, thumbnails = media_dir / "videos", media_dir / "thumbnails"
    videos.mkdir(parents=True, exist_ok=True)
    thumbnails.mkdir(parents=True, exist_ok=True)
    colour = _colour(request_id)
    thumbnail = thumbnails / f"{request_id}.svg"
    thumbnail.write_text(thumbnail_svg(title, colour), encoding="utf-8")
    video = videos / f"{request_id}-{version}.webm"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as text:
        # The title goes through a file: no escaping rules of ffmpeg's filter syntax to get wrong.
        # Wrapped to fit the 320-pixel frame.
        text.write("\n".join(textwrap.wrap(title, 26)[:3]))
        text.flush()
        process = await asyncio.create_subprocess_exec(
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi",
            "-i", f"color=c={colour.replace('#', '0x')}:s=320x180:d={CLIP_SECONDS}:r=15",
            "-vf", f"drawtext=textfile={text.name}:fontcolor=white:fontsize=18:line_spacing=6"
                   ":expansion=none:x=(w-text_w)/2:y=(h-text_h)/2",
            "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime",
            str(video),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), 60)
        except TimeoutError as error:
            process.kill()
            raise RenderError("video rendering timed out") from error
        except asyncio.CancelledError:
            process.kill()  # the job was released or lost its lease: leave no ffmpeg behind
            raise
    if process.returncode != 0:
        raise RenderError(f"ffmpeg failed: {stderr.decode(errors='replace').strip()[:200]}")
    return Media(video, thumbnail, CLIP_SECONDS)


def delete(media_dir: Path, request_id: uuid.UUID) -> int:
    """Delete every file `render` wrote for `request_id` (all versions); return how many."""
    paths = [
        *(media_dir / "videos").glob(f"{request_id}-*.webm"),
        media_dir / "thumbnails" / f"{request_id}.svg",
    ]
    deleted = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted += 1
    return deleted
