"""A thin Selenium wrapper around Debian's headless chromium for the console tests (never a browser download)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Screenshots go to a temporary folder, so a test run leaves the tree clean; the README's pictures
# are refreshed with `HOTLINE_SCREENSHOTS=docs/screenshots scripts/test tests/console`.
SCREENSHOTS = Path(os.environ.get("HOTLINE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "hotline-screenshots")


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks (installed by scripts/_browser.sh)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return missing + ([] if shutil.which("fc-list") else ["fc-list (fontconfig)"])


def cjk_fonts() -> list[str]:
    """Installed fonts that cover Chinese."""
    result = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return [line for line in result.stdout.splitlines() if line.strip()]


class Browser:
    def __init__(self) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="console-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1440,1000",
            "--lang=zh-CN",
            f"--user-data-dir={self.profile.name}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # On Linux chromium takes its locale (navigator.language, the <input type=date> layout) from the
        # environment, not from --lang: without LANGUAGE a date field shows 11/01/2026.
        options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
        env = {**os.environ, "LANGUAGE": "zh_CN:zh", "LANG": "zh_CN.UTF-8", "TZ": "Asia/Shanghai"}
        service = Service(executable_path=CHROMEDRIVER, env=env)
        self.driver = webdriver.Chrome(options=options, service=service)

    def close(self) -> None:
        self.driver.quit()
        self.profile.cleanup()

    # -- finding and waiting -------------------------------------------------------------------------

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[], Any], *, timeout_s: float = 15, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                result = condition()
            except StaleElementReferenceException:
                result = None
            if result:
                return result
            time.sleep(0.05)
        errors = self.js_errors()
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; console errors: {errors}")

    def visible(self, css: str, **kwargs: Any) -> WebElement:
        def shown() -> WebElement | None:
            found = self.driver.find_elements(By.CSS_SELECTOR, css)
            return found[0] if found and found[0].is_displayed() else None

        element: WebElement = self.wait(shown, what=f"{css} to show", **kwargs)
        return element

    def text_of(self, css: str) -> str:
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""

    def wait_text(self, css: str, expected: str, **kwargs: Any) -> str:
        text: str = self.wait(
            lambda: expected in self.text_of(css) and self.text_of(css), what=f"{expected!r} in {css}", **kwargs
        )
        return text

    def js_errors(self) -> list[str]:
        try:
            logs: list[dict[str, Any]] = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        except Exception:
            return []
        return [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]

    # -- console steps -------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        self.driver.get(url)

    def login(self, username: str, password: str) -> None:
        self.visible("#login-username").send_keys(username)
        self.find("#login-password").send_keys(password)
        self.find("#login-submit").click()
        self.visible("#user-box")
        self.wait_text("#user-name", username)

    def logout(self) -> None:
        self.find("#logout").click()
        self.visible("#login-username")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
