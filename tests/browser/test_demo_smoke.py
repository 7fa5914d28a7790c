"""`helpline demo` end to end: start it like a newcomer would, sign in with the
credentials it prints, see the demo inbox, stop it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import free_port

STARTUP_TIMEOUT_SECONDS = 90.0


class _Output:
    """Collects a subprocess's output lines in a thread (a full pipe would block it)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._stream = process.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        self._thread.join(timeout=10)
        self._stream.close()


def _wait_until_healthy(url: str, process: subprocess.Popen[str], output: _Output) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"helpline demo exited early ({process.returncode}):\n{output.text}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"helpline demo did not become healthy:\n{output.text}")


@pytest.mark.slow
def test_helpline_demo_serves_a_seeded_inbox(page: Page, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELPLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpline.cli",
            "demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output = _Output(process)
    try:
        _wait_until_healthy(url, process, output)
        assert f"Helpline demo: {url}" in output.text
        admin = re.search(r"Admin\s+login: (\S+)\s+password: (\S+)", output.text)
        assert admin, output.text

        page.goto(url)
        expect(page).to_have_url(re.compile(r"/login"))
        page.get_by_label("Email").fill(admin.group(1))
        page.get_by_label("Password").fill(admin.group(2))
        page.get_by_role("button", name="Sign in").click()

        expect(page).to_have_url(f"{url}/inbox")
        all_tab = page.get_by_role("link", name="All", exact=True)
        expect(all_tab).to_have_attribute("aria-current", "page")
        expect(page.locator("tr.conversation-row")).to_have_count(25)  # one full page
        expect(page.locator("#result-count")).to_have_text(re.compile(r"^\d+ conversations$"))
        expect(page.get_by_role("link", name="Next page →")).to_be_visible()
        assert (data_dir / "helpline.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # the assertion below reports it
            returncode = process.wait(timeout=10)
        output.close()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status
    # says how the process ended.
    assert returncode in (0, -signal.SIGTERM), output.text
    assert "Application shutdown complete" in output.text
