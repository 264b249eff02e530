"""The server's text rule reads the copy a notification was made with first, for the push and the
digest alike, with the same keys as the client package's `describe`."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

from service.channels.email.message import item_from_row
from service.channels.push import message as push_message
from service.channels.push import worker_script
from service.notifications import text

COPIED = {"title": "Tides", "copy_heading": " Tides is ready ", "copy_body": "Watch it now."}


def test_filled_copy_is_the_heading_and_the_only_text() -> None:
    assert text.heading("Your video is ready", COPIED) == "Tides is ready"
    assert text.text_lines(COPIED) == ["Watch it now."]
    plain = {"title": "Tides", "copy_heading": "  ", "copy_body": 7}
    assert text.heading("Your video is ready", plain) == "Your video is ready"
    assert text.text_lines(plain) == ["Tides"]


def test_the_push_and_the_digest_show_the_copy() -> None:
    assert push_message.text("video_complete", "Your video is ready", COPIED) == (
        "Tides is ready",
        "Watch it now.",
    )
    row = {"label": "Your video is ready", "payload": COPIED, "created_at": datetime.now(UTC)}
    item = item_from_row(row, "https://example.test/open")
    assert (item.label, item.text) == ("Tides is ready", "Watch it now.")


def test_the_page_and_the_server_read_the_same_copy_keys() -> None:
    registry = worker_script.classic(worker_script.TYPES.read_text(), "Types")
    run = subprocess.run(
        ["node", "-e", registry + "process.stdout.write(JSON.stringify(Types.COPY_KEYS))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout) == {"heading": text.COPY_HEADING, "body": text.COPY_BODY}
