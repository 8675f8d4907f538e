"""
Debian's Chromium, as the browser tests, the photo benchmark and the audit
launch it. The flags keep it off the network (this machine has none but the
package registries) and quiet in a container running as root.
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
