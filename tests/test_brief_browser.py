"""The brief in a real headless browser: no network request, no console error, readable on a phone.

Chromium is driven through its DevTools protocol (``websocket-client``). CI installs Debian's
``chromium`` before ``make test`` (``.ci/run``); without a browser the test is skipped and
says how to get one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from toolkit.estimate import UnitCosts
from toolkit.estimate.headline import HeadlineSettings
from toolkit.report.brief import write_briefs
from toolkit.results import result_frame

BROWSER = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no headless browser: install Debian's chromium (apt-get install -y chromium) to run "
    "the brief's browser test; CI installs it in .ci/run",
)
SOCIAL = {"contrast": "social vs not_social", "scale": "difference"}


def _results() -> SimpleNamespace:
    rows = [
        {
            "term": "d",
            "estimate": -1.07,
            "ci_low": -1.13,
            "ci_high": -1.02,
            "estimand": "difference",
            "outcome": "hops",
            "method_key": "naive",
            **SOCIAL,
        },
        {
            "term": "a",
            "estimate": -0.17,
            "ci_low": -0.23,
            "ci_high": -0.11,
            "estimand": "att",
            "outcome": "hops",
            "method_key": "aipw",
            **SOCIAL,
        },
        {
            "term": "d",
            "estimate": -4.7,
            "ci_low": -4.9,
            "ci_high": -4.4,
            "estimand": "difference",
            "outcome": "rmst_days",
            "method_key": "naive",
            **SOCIAL,
        },
        {
            "term": "a",
            "estimate": -1.0,
            "ci_low": -1.4,
            "ci_high": -0.6,
            "estimand": "att",
            "outcome": "rmst_days",
            "method_key": "ipw_km",
            **SOCIAL,
        },
    ] + [
        {
            "term": c,
            "estimate": e,
            "ci_low": e - 0.2,
            "ci_high": e + 0.2,
            "estimand": "att",
            "outcome": "hops",
            "group": "category",
            "group_value": c,
            "method_key": "aipw",
            **SOCIAL,
        }
        for c, e in (("roads", -0.3), ("health", 0.05), ("<img src=x onerror=alert(1)>", -0.1))
    ]
    table = result_frame([{"method": "m", "std_error": 0.1, "n": 500, **r} for r in rows])
    return SimpleNamespace(
        table=table,
        skipped={"rollout": "no_rollout"},
        warnings=None,
        settings=HeadlineSettings(n_boot=20),
    )


class _DevTools:
    """A minimal DevTools client: one page target, commands and collected events."""

    def __init__(self, browser: str, profile: Path) -> None:
        import websocket

        self.process = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the browser did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        import urllib.request

        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
                    targets = [t for t in json.load(answer) if t["type"] == "page"]
                if targets:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        # no Origin header: newer Chromium refuses a DevTools socket from an origin it was not told of
        self.socket = websocket.create_connection(
            targets[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        self.events: list[dict] = []
        self.next_id = 0

    def send(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})
            self.events.append(message)

    def settle(self, seconds: float) -> None:
        self.socket.settimeout(0.2)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.events.append(json.loads(self.socket.recv()))
            except Exception:  # noqa: BLE001 - a timeout: nothing more to collect yet
                continue
        self.socket.settimeout(30)

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)


VISIBLE = """
(() => {
  const width = document.documentElement.clientWidth;
  const small = [];
  for (const el of document.querySelectorAll('p, li, dt, dd, h1, h2, figcaption')) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.display === 'none' || box.width === 0) continue;
    if (parseFloat(style.fontSize) < 12 || box.right > width + 1 || box.left < -1) {
      small.push(el.tagName + ':' + el.textContent.slice(0, 40));
    }
  }
  const images = [...document.images].map(i => i.getBoundingClientRect().width);
  return JSON.stringify({
    width, scroll: document.documentElement.scrollWidth, small, images,
    lang: document.documentElement.lang, text: document.body.innerText.length,
    alts: [...document.images].map(i => i.alt.length),
  });
})()
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief")
    cases = pd.DataFrame(
        {
            "channel": ["twitter", "phone"] * 20,
            "region": ["A", "B"] * 20,
            "start": pd.date_range("2024-01-01", periods=40, tz="UTC"),
        }
    )
    return write_briefs(_results(), folder, cases=cases, costs=UnitCosts(), date="2026-01-01")


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("width", [1280, 390])
def test_brief_in_a_real_browser(pages, lang, width):
    profile = Path(tempfile.mkdtemp(prefix="sekat-browser-"))
    tools = _DevTools(BROWSER, profile)
    try:
        for domain in ("Network", "Runtime", "Log", "Page"):
            tools.send(f"{domain}.enable")
        tools.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=844,
            deviceScaleFactor=1,
            mobile=width < 500,
        )
        url = pages[lang].resolve().as_uri()
        tools.send("Page.navigate", url=url)
        tools.settle(3.0)
        found = json.loads(
            tools.send("Runtime.evaluate", expression=VISIBLE, returnByValue=True)["result"][
                "value"
            ]
        )
    finally:
        tools.close()
        shutil.rmtree(profile, ignore_errors=True)
    requests = [
        e["params"]["request"]["url"]
        for e in tools.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert [u for u in requests if u != url and not u.startswith("data:")] == []
    errors = [
        e
        for e in tools.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    assert found["lang"] == lang
    assert found["scroll"] <= found["width"], "the page scrolls sideways"
    assert found["small"] == [], "text too small or off the screen"
    assert found["images"] and all(0 < w <= found["width"] for w in found["images"])
    assert all(n > 40 for n in found["alts"])
    assert found["text"] > 2000
    assert os.path.getsize(pages[lang]) < 1_500_000
