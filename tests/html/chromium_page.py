"""Drives Debian's headless chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: requests on fd 3, replies on fd 4, NUL-separated JSON), with
python3's standard library only. Used by check_html.py."""

import base64
import json
import os
import select
import subprocess
import time
import zlib


class ChromiumError(Exception):
    pass


class Page:
    """One chromium with one page. Records console errors, uncaught exceptions and
    every network request the page makes."""

    def __init__(self, chromium, workdir, width=1280, height=900, timeout=20.0):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # The protocol's fixed descriptors in the child.
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.errors, self.requests, self.events = [], [], []
        self.buf = b""
        self.next_id = 0
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
             "--mute-audio", "--user-data-dir=" + os.path.join(workdir, "profile"),
             "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4, to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(workdir, "chromium.log"), "wb"))
        os.close(to_child_r)
        os.close(from_child_w)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": False}, session=True)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)

    def _read_message(self, until):
        while b"\0" not in self.buf:
            left = until - time.monotonic()
            if left <= 0:
                raise ChromiumError("chromium did not answer in time")
            r, _, _ = select.select([self.from_child], [], [], left)
            if r:
                chunk = os.read(self.from_child, 1 << 20)
                if not chunk:
                    raise ChromiumError("chromium exited (see chromium.log)")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def _event(self, m):
        method, p = m.get("method"), m.get("params", {})
        self.events.append(m)
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append("exception: " + d.get("exception", {}).get(
                "description", d.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append("log: " + p["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])

    def call(self, method, params=None, session=False, timeout=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        until = time.monotonic() + timeout if timeout else self.deadline
        while True:
            m = self._read_message(until)
            if m.get("id") == mid:
                if "error" in m:
                    raise ChromiumError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self._event(m)

    def wait_event(self, method):
        for m in self.events:
            if m.get("method") == method:
                return m
        while True:
            m = self._read_message(self.deadline)
            self._event(m)
            if m.get("method") == method:
                return m

    def navigate(self, url):
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_event("Page.loadEventFired")

    def eval(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                      session=True)
        if "exceptionDetails" in r:
            raise ChromiumError("evaluating %r: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def click(self, x, y):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                      session=True)

    def drag(self, x0, y, x1):
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x0, "y": y},
                  session=True)
        self.call("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y,
                                               "button": "left", "clickCount": 1}, session=True)
        for i in range(1, 6):
            self.call("Input.dispatchMouseEvent",
                      {"type": "mouseMoved", "x": x0 + (x1 - x0) * i / 5, "y": y,
                       "button": "left", "buttons": 1}, session=True)
        self.call("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y,
                                               "button": "left", "clickCount": 1}, session=True)

    def screenshot(self, height=None, scale=1.0):
        """A PNG of the page from its top, `height` CSS pixels (None: all of it)."""
        m = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        params = {"format": "png", "captureBeyondViewport": True,
                  "clip": {"x": 0, "y": 0, "width": m["width"],
                           "height": min(height or m["height"], m["height"]), "scale": scale}}
        return base64.b64decode(self.call("Page.captureScreenshot", params,
                                          session=True)["data"])


def png_pixels(data):
    """(width, height, rows of bytes, bytes per pixel) of an 8-bit non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = body
        elif kind == b"IDAT":
            idat += body
    w, h = int.from_bytes(hdr[0:4], "big"), int.from_bytes(hdr[4:8], "big")
    depth, ctype, interlace = hdr[8], hdr[9], hdr[12]
    if depth != 8 or interlace or ctype not in (2, 6):
        raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride, rows, prev = w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp
