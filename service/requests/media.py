"""Media the simulated pipeline produces: a short playable WebM and a PNG thumbnail (its first
frame: a raster image, which mail clients and push images show, unlike SVG).

The video is rendered by the ffmpeg binary that the imageio-ffmpeg wheel ships, so a fresh
machine needs nothing installed by hand.
"""

from __future__ import annotations

import asyncio
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


async def _ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg with `args`; RenderError when it fails or takes over a minute."""
    process = await asyncio.create_subprocess_exec(
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args,
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


async def render(media_dir: Path, request_id: uuid.UUID, version: int, title: str) -> Media:
    """Write `videos/<id>-<version>.webm` and its first frame, `thumbnails/<id>.png`, under
    `media_dir`."""
    title = student_text.clean(title)
    videos, thumbnails = media_dir / "videos", media_dir / "thumbnails"
    videos.mkdir(parents=True, exist_ok=True)
    thumbnails.mkdir(parents=True, exist_ok=True)
    colour = _colour(request_id)
    video = videos / f"{request_id}-{version}.webm"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as text:
        # The title goes through a file: no escaping rules of ffmpeg's filter syntax to get wrong.
        # Wrapped to fit the 320-pixel frame.
        text.write("\n".join(textwrap.wrap(title, 26)[:3]))
        text.flush()
        await _ffmpeg(
            "-f", "lavfi",
            "-i", f"color=c={colour.replace('#', '0x')}:s=320x180:d={CLIP_SECONDS}:r=15",
            "-vf", f"drawtext=textfile={text.name}:fontcolor=white:fontsize=18:line_spacing=6"
                   ":expansion=none:x=(w-text_w)/2:y=(h-text_h)/2",
            "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime",
            str(video),
        )  # fmt: skip
    # A raster thumbnail (mail clients and push images show no SVG): the video's first frame.
    thumbnail = thumbnails / f"{request_id}.png"
    await _ffmpeg("-i", str(video), "-frames:v", "1", "-update", "1", str(thumbnail))
    return Media(video, thumbnail, CLIP_SECONDS)


def delete(media_dir: Path, request_id: uuid.UUID) -> int:
    """Delete every file `render` wrote for `request_id` (all versions); return how many."""
    paths = [
        *(media_dir / "videos").glob(f"{request_id}-*.webm"),
        media_dir / "thumbnails" / f"{request_id}.png",
        media_dir / "thumbnails" / f"{request_id}.svg",  # written before the PNG was
    ]
    deleted = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted += 1
    return deleted
