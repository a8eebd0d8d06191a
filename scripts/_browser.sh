# Sourced by scripts/test: the browser tests need Debian's chromium, its driver, its zh-CN locale
# (chromium-l10n: without it date fields read 11/01/2026) and a CJK font (never a browser download).
# Installed when missing and this user may use apt; otherwise those tests skip with a loud reason.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "cjk" \
    || ! [ -e /usr/lib/chromium/locales/zh-CN.pak ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing chromium, chromium-driver, chromium-l10n and fonts-noto-cjk for the browser tests" >&2
        apt-get install -y -q chromium chromium-driver chromium-l10n fonts-noto-cjk >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver chromium-l10n fonts-noto-cjk >/dev/null 2>&1; } \
            || echo "!!! could not install chromium: browser tests will be skipped" >&2
    else
        echo "!!! chromium/chromedriver/CJK font missing and apt-get unavailable: browser tests will be skipped" >&2
    fi
fi
